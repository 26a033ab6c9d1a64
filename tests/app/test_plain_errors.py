"""Every error in plain words: checkpoints that are not one, a fully hidden person, a failed run's progress bar."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.app.conftest import FakePredictor
from tests.conftest import NTU_SAMPLES, ROOT

pytestmark = pytest.mark.slow  # each test here takes over half a second (make test-fast leaves them out)

A001 = NTU_SAMPLES / "S001C001P001R001A001.skeleton"
DEMO = ROOT / "dcmae_core" / "resources" / "checkpoints" / "dcmae_demo.pt"


@pytest.mark.parametrize("kind", ["text", "truncated"])
def test_a_bad_checkpoint_gives_a_dialog_naming_the_file_and_the_problem(window, qloop, tmp_path, dialogs, kind):
    bad = tmp_path / f"{kind}.pt"
    if kind == "text":
        bad.write_text("these are my notes, not a model\n")
    else:
        raw = DEMO.read_bytes()
        bad.write_bytes(raw[: len(raw) // 2])
    assert not qloop.run_until_complete(window.start_checkpoint(str(bad)))
    title, text = dialogs[-1]
    assert title == "Cannot open checkpoint" and str(bad) in text
    assert ("not a PyTorch checkpoint" if kind == "text" else "cut off or damaged") in text
    for raw_words in ("Error", "KeyError", "pop from empty list", "miniz", "PytorchStreamReader"):
        assert raw_words not in text
    assert text.rstrip().endswith(".")  # a whole sentence, not a cut-off library message


def test_a_fully_hidden_person_gives_a_plain_note_and_a_full_progress_bar(window, qloop, dialogs):
    assert qloop.run_until_complete(window.start_checkpoint(str(DEMO))), dialogs
    window.open_path(A001)
    window.controller.invert_mask()  # every joint hidden
    assert window.state.mask[window.state.sequence.present].all()
    assert qloop.run_until_complete(window.start_inference()), dialogs
    assert not dialogs
    st = window.state
    assert "masked" not in st.predictions and "reconstruction" in st.predictions
    assert "every joint is hidden" in window.inference_panel.status.text()
    assert "no valid person" not in window.inference_panel.status.text()
    assert window.inference_panel.progress.value() == window.inference_panel.progress.maximum()


def test_a_failed_run_resets_the_progress_bar(window, qloop, dialogs):
    from app.workers.inference import model_info

    fake = FakePredictor(steps=10, fail="the model broke")
    window.open_path(A001)
    window.service.predictor = fake
    window.state.set_model_info(model_info(fake))
    window.controller.mask_spec("left-arm")
    assert not qloop.run_until_complete(window.start_inference())
    assert dialogs and "the model broke" in dialogs[-1][1]
    assert window.inference_panel.progress.value() == 0  # not stuck at 85 %
    assert np.isfinite(window.state.sequence.data).all() and window.isVisible()


def test_the_app_never_reads_a_missing_checkpoint(window, qloop, dialogs, tmp_path):
    assert not qloop.run_until_complete(window.start_checkpoint(str(tmp_path / "nope.pt")))
    assert str(Path(tmp_path / "nope.pt")) in dialogs[-1][1]


def test_an_unexpected_error_in_a_worker_is_said_in_words(window, qloop, dialogs):
    from app.workers.jobs import JobFailed

    def broken(_progress):
        [].pop()  # IndexError: pop from empty list, a defect

    with pytest.raises(JobFailed) as ei:
        qloop.run_until_complete(window.controller.exports.start(broken))
    text = str(ei.value)
    assert text.startswith("an unexpected error stopped the work") and "log" in text and text.endswith(".")
    with pytest.raises(JobFailed, match="^the file is bad$"):  # the project's own messages pass unchanged
        qloop.run_until_complete(
            window.controller.exports.start(lambda _p: (_ for _ in ()).throw(ValueError("the file is bad")))
        )
