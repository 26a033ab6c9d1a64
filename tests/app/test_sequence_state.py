"""Per-sequence state: each open sequence keeps its mask, undo history and results; a new model clears results."""

from __future__ import annotations

import numpy as np
import pytest

from app.widgets.dialogs import model_info_text
from app.widgets.inference_panel import model_summary
from app.workers.inference import model_info
from tests.app.conftest import FakePredictor
from tests.conftest import NTU_SAMPLES

pytestmark = pytest.mark.slow  # each test here takes over half a second (make test-fast leaves them out)

A001 = NTU_SAMPLES / "S001C001P001R001A001.skeleton"
A058 = NTU_SAMPLES / "S001C003P008R002A058.skeleton"


def _switch(window, path):
    """What the sequence selector does when the user picks a file opened before."""
    i = window.paths.index(str(path.resolve()))
    window.sequence_box.activated.emit(i)


def test_mask_undo_and_results_survive_switching(window):
    st, c = window.state, window.controller
    window.open_path(A001)
    c.mask_spec("left-arm")
    first = st.mask.copy()
    c.mask_spec("head")
    masked = st.mask.copy()
    assert st.set_result(st.version, st.sequence.data + 0.1, {"masked": [("class 1", 0.5)]})
    st.set_frame(40)
    window.open_path(A058)
    assert not st.mask.any() and st.reconstruction is None and st.frame == 0
    c.mask_spec("right-leg")
    other = st.mask.copy()
    _switch(window, A001)
    assert st.sequence.name == A001.stem
    assert np.array_equal(st.mask, masked) and st.frame == 40
    assert st.reconstruction is not None and np.allclose(st.reconstruction, st.sequence.data + 0.1)
    assert st.predictions == {"masked": [("class 1", 0.5)]}
    assert window.results.error_plot.errors is not None  # the views and plot show the kept result
    st.undo()
    assert np.array_equal(st.mask, first)  # the undo history came back too
    _switch(window, A058)
    assert np.array_equal(st.mask, other) and st.can_undo and st.reconstruction is None


def test_a_new_checkpoint_clears_the_old_models_results(window):
    st, c = window.state, window.controller
    st.set_model_info(model_info(FakePredictor()))
    for path in (A001, A058):
        window.open_path(path)
        c.mask_spec("left-arm")
        assert st.set_result(st.version, st.sequence.data + 0.1, {"masked": [("class 1", 0.5)]})
    st.set_model_info(model_info(FakePredictor()))  # what Model → Open checkpoint does once it loaded
    assert st.reconstruction is None and st.predictions == {} and st.mask.any()
    assert window.results.error_plot.errors is None
    _switch(window, A001)
    assert st.reconstruction is None and st.predictions == {} and st.mask.any()  # the mask stays


def test_a_pretraining_checkpoint_claims_no_classes():
    fake = FakePredictor()
    fake.classifier = None  # a pretraining-only checkpoint
    info = model_info(fake)
    assert info["class_names"] == [] and not info["can_classify"]
    assert "12 classes" not in model_info_text(info) and "classes: none" in model_info_text(info)
    assert "recognises no actions" in model_summary(info)


def test_a_file_opened_through_a_link_is_one_sequence(window, tmp_path):
    link = tmp_path / "linked.skeleton"
    link.symlink_to(A001)
    st, c = window.state, window.controller
    window.open_path(link)
    c.mask_spec("left-arm")
    masked = st.mask.copy()
    window.open_path(A058)
    _switch(window, A001)  # the selector holds the file itself, not the link's name
    assert window.paths.count(str(A001.resolve())) == 1 and len(window.paths) == 2
    assert np.array_equal(st.mask, masked)  # its kept mask came back


def test_a_checkpoint_with_a_motion_bank_names_it_in_the_method_and_the_summary(window):
    from types import SimpleNamespace

    fake = FakePredictor()
    fake.config = SimpleNamespace(model=SimpleNamespace(fill_prior="interp"))  # a model built on interpolation
    fake.info = {"motion_bank": {"clips": 1371, "frames": 70880, "spans": [8, 60]}}
    window.state.set_model_info(model_info(fake))
    panel = window.inference_panel
    assert panel.method.itemText(0) == "DCMAE + motion bank, one step" and panel.method_name == "one_step"
    assert "motion bank: 1,371 recorded clips" in panel.model_label.text() and "8-60 frames" in panel.model_label.text()
    fake.info = {}
    window.state.set_model_info(model_info(fake))
    assert panel.method.itemText(0) == "DCMAE on interpolation, one step"
    assert "motion bank" not in panel.model_label.text()
