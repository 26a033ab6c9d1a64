"""Inference in the worker thread: results, progress, cancel, stale results, errors, a responsive loop."""

from __future__ import annotations

import asyncio
import time

import numpy as np
import pytest
from PySide6.QtCore import Qt

from tests.app.conftest import FakePredictor
from tests.conftest import NTU_SAMPLES

pytestmark = pytest.mark.slow  # each test here takes over half a second (make test-fast leaves them out)

A001 = NTU_SAMPLES / "S001C001P001R001A001.skeleton"


def _ready(window, predictor):
    from app.workers.inference import model_info

    window.open_path(A001)
    window.service.predictor = predictor
    window.state.set_model_info(model_info(predictor))
    window.controller.mask_spec("left-arm")


def test_result_is_stored_with_progress_and_predictions(window, qloop):
    fake = FakePredictor(steps=10)
    _ready(window, fake)
    seen = []
    window.service.progress.connect(seen.append)
    assert qloop.run_until_complete(window.start_inference())
    st = window.state
    assert st.reconstruction is not None and st.reconstruction.shape == st.sequence.data.shape
    assert np.array_equal(st.recon_mask, st.mask)
    assert (st.reconstruction[st.mask] == 0).all()  # the fake fills with the origin
    assert np.allclose(st.reconstruction[~st.mask], st.sequence.data[~st.mask])
    assert [n for n, _ in st.predictions["masked"]][0] != [n for n, _ in st.predictions["reconstruction"]][0]
    assert seen and seen[-1] == pytest.approx(1.0) and seen == sorted(seen)
    assert window.results.predictions.masked.names[0].text().startswith("class")
    err = window.results.error_plot.errors
    assert err is not None and np.isfinite(err).all() and (err > 0).all()  # every frame has masked joints
    # the interpolation baseline of the same joints, beside the model's curve and in the legend
    from dcmae_core.baselines import interpolate_removed

    np.testing.assert_array_equal(st.baseline, interpolate_removed(st.sequence.data, st.mask))
    plot = window.results.error_plot
    assert plot.baseline is not None and np.isfinite(plot.baseline).all()
    labels = [label.text for _, label in plot.legend.items]
    assert labels[0].startswith("model: ") and labels[1].startswith("interpolation: ") and labels[1].endswith(" cm")
    assert window.inference_panel.run.isEnabled() and not window.inference_panel.cancel.isEnabled()


def test_cancel_stops_the_thread(window, qloop, qtbot):
    fake = FakePredictor(steps=400, step_s=0.01)
    _ready(window, fake)
    task = window.start_inference()
    qtbot.waitUntil(lambda: window.inference_panel.cancel.isEnabled(), timeout=3000)
    start = time.perf_counter()
    qtbot.mouseClick(window.inference_panel.cancel, Qt.MouseButton.LeftButton)
    assert qloop.run_until_complete(task) is False
    assert time.perf_counter() - start < 2.0
    assert window.state.reconstruction is None and not window.service.busy
    assert "cancelled" in window.inference_panel.status.text()


def test_result_for_a_changed_input_is_discarded(window, qloop):
    fake = FakePredictor(steps=30, step_s=0.01)
    _ready(window, fake)

    async def change_mask_meanwhile() -> bool:
        task = window.start_inference()
        await asyncio.sleep(0.08)
        window.controller.mask_spec("head")  # the user edits the mask while it runs
        return await task

    assert qloop.run_until_complete(change_mask_meanwhile()) is False
    assert window.state.reconstruction is None and window.state.predictions == {}
    assert "discarded" in window.inference_panel.status.text()


def test_errors_become_dialogs_and_the_loop_stays_responsive(window, qloop, dialogs):
    fake = FakePredictor(steps=30, step_s=0.01, fail="the model exploded")
    _ready(window, fake)
    gaps = []

    async def watch() -> bool:
        task = window.start_inference()
        last = time.perf_counter()
        while not task.done():
            await asyncio.sleep(0.005)
            now = time.perf_counter()
            gaps.append(now - last)
            last = now
        return task.result()

    assert qloop.run_until_complete(watch()) is False
    assert dialogs and "the model exploded" in dialogs[-1][1]
    assert len(gaps) > 10 and max(gaps) < 0.25  # the GUI thread kept running during inference


def test_no_model_is_an_error_not_a_crash(window, qloop, dialogs):
    window.open_path(A001)
    assert qloop.run_until_complete(window.start_inference()) is False
    assert "no model" in dialogs[-1][1]


def test_corrupt_checkpoint_names_the_problem(window, qloop, tmp_path, dialogs):
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"this is not a checkpoint")
    assert qloop.run_until_complete(window.start_checkpoint(str(bad))) is False
    assert dialogs and dialogs[-1][0] == "Cannot open checkpoint" and str(bad.name) in dialogs[-1][1]
    assert window.service.predictor is None
    assert qloop.run_until_complete(window.start_checkpoint(str(tmp_path / "missing.pt"))) is False
    assert "no such" in dialogs[-1][1]


def _untrained_checkpoint(tmp_path):
    checkpoint = pytest.importorskip("dcmae_core.checkpoint")
    if not hasattr(checkpoint, "write_untrained_checkpoint"):
        pytest.skip("dcmae_core.checkpoint.write_untrained_checkpoint has not landed yet")
    return checkpoint.write_untrained_checkpoint(tmp_path / "tiny.pt", preset="tiny")


def test_real_untrained_checkpoint_reconstructs_and_exports(window, qloop, tmp_path, dialogs):
    from app import core_bridge

    path = _untrained_checkpoint(tmp_path)
    assert qloop.run_until_complete(window.start_checkpoint(str(path))), dialogs
    info = window.state.model_info
    assert len(info["class_names"]) == 12 and info["num_joints"] == 25
    window.open_path(A001)
    window.controller.mask_missing(0.1, seed=0)
    assert qloop.run_until_complete(window.start_inference()), dialogs
    st = window.state
    rec = st.reconstruction
    assert rec.shape == st.sequence.data.shape and np.isfinite(rec).all()
    assert np.allclose(rec[~st.mask], st.sequence.data[~st.mask], atol=1e-5)
    assert not np.allclose(rec[st.mask], st.sequence.data[st.mask])
    probs = [p for _, p in st.predictions["masked"]]
    assert len(probs) == 5 and probs == sorted(probs, reverse=True) and 0 < sum(probs) <= 1 + 1e-6
    out = tmp_path / "rec.skeleton"
    assert window.controller.export_reconstruction(out)
    back = core_bridge.load_sequence(out)
    assert np.allclose(back.data[0], rec[0], atol=1e-3)
    assert window.settings.value("last_checkpoint").endswith("tiny.pt")
