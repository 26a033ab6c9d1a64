"""Kinect v1 files in the app (20 joints): NW-UCLA .json and UTD-MHAD .mat open from File → Open and from the
browser, drawn with the Kinect v1 bones and masked by its body parts, without a model."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from app.views.base import frame_layers
from dcmae_core.layout import KINECT20
from tests.shared_data import NTU_SAMPLES

pytestmark = pytest.mark.slow  # each test here takes over half a second (make test-fast leaves them out)

REAL = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "real"
NWUCLA, UTD, KG = REAL / "nw_ucla" / "all_sqe", REAL / "utd_mhad", REAL / "kinder_gator"
pytestmark = pytest.mark.skipif(not REAL.is_dir(), reason=f"{REAL} (the shared real recordings) is absent")


def test_open_nwucla_file_after_an_ntu_file(window):
    assert window.open_path(sorted(NTU_SAMPLES.glob("*.skeleton"))[0])  # 25 joints first, then 20
    assert window.open_path(NWUCLA / "a04_s02_e01_v03.json")
    seq = window.state.sequence
    assert seq.data.shape[0] == 1 and seq.data.shape[2:] == (20, 3) and seq.present.all()
    assert seq.joint_names == KINECT20.joint_names and seq.parents == KINECT20.parents
    assert "NW-UCLA" in seq.title and "walk around" in seq.title and seq.name == "a04_s02_e01_v03"
    layer = frame_layers(window.state, "masked", 0)[0]
    assert layer.line_pos.shape == (19 * 2, 3) and layer.point_pos.shape == (20, 3)  # 19 bones, 20 joints
    assert window.controller.mask_parts(["left arm"])
    assert window.state.mask[0, :, list(KINECT20.groups["left arm"])].all()
    assert window.state.mask.sum() == 4 * seq.num_frames
    window.active_view().refresh()
    assert window.title.text().startswith("a04_s02_e01_v03")


def test_open_utd_file_reordered(window):
    assert window.open_path(UTD / "a27_s3_t2_skeleton.mat")
    seq = window.state.sequence
    assert seq.data.shape[2:] == (20, 3) and "squat" in seq.title
    y = np.median(seq.data[0, :, :, 1], axis=0)  # (V,) y up
    j = {n: i for i, n in enumerate(seq.joint_names)}
    assert y[j["head"]] > y[j["shoulder centre"]] > y[j["spine"]] > y[j["hip centre"]]
    np.testing.assert_allclose(seq.data[0, 0, KINECT20.center], 0.0, atol=1e-6)  # centred


def test_browse_folder_of_kinect_files(window, tmp_path, dialogs):
    folder = tmp_path / "mixed"
    folder.mkdir()
    for p in [*sorted(NWUCLA.glob("a05_s03_e00_v0*.json")), UTD / "a22_s2_t1_skeleton.mat"]:
        shutil.copy(p, folder / p.name)
    (folder / "a06_s01_e00_v01.json").write_text("{not json")
    assert window.browse(folder)
    panel = window.browser
    assert panel.table.rowCount() == 5
    panel.edits["camera"].setText("3")
    assert panel.table.rowCount() == 1 and panel.table.item(0, 6).text() == "sit down"
    panel.table.cellDoubleClicked.emit(0, 0)
    assert window.state.sequence.name == "a05_s03_e00_v03"
    panel.edits["camera"].setText("")
    panel.text.setText("jogging")
    assert panel.table.rowCount() == 1 and panel.table.item(0, 3).text() == "2"  # performer = subject 2
    panel.table.cellDoubleClicked.emit(0, 0)
    assert window.state.sequence.name == "a22_s2_t1_skeleton"
    bad = next(e for e in panel.entries if e.name == "a06_s01_e00_v01")
    assert not window.open_entry(bad) and "a06_s01_e00_v01.json" in dialogs[-1][1]
    assert window.state.sequence.name == "a22_s2_t1_skeleton"  # the shown sequence stays


def test_browse_kinder_gator_subfolders_and_a_kinect_cache(window, tmp_path):
    from dcmae_core.data.kinect_import import import_nwucla

    kg = tmp_path / "kg" / "Children"
    kg.mkdir(parents=True)
    for p in sorted((KG / "Children").glob("POSE-p103_0[12]-*.csv")):
        shutil.copy(p, kg / p.name)
    assert window.browse(tmp_path / "kg")  # takes in Adults/ and Children/ subfolders
    entries = window.browser.entries
    assert [(e.setup, e.performer, e.action_name) for e in entries] == [
        (2, 103, "Raise your hand"), (2, 103, "Raise your other hand")]  # fmt: skip
    assert window.open_entry(entries[1]) and window.state.sequence.num_joints == 20

    nw = tmp_path / "nw"
    nw.mkdir()
    for p in sorted(NWUCLA.glob("a1[12]_s01_e00_v0*.json")):
        shutil.copy(p, nw / p.name)
    import_nwucla(nw, tmp_path / "cache")
    assert window.browse(tmp_path / "cache")
    entries = window.browser.entries
    assert len(entries) == 6 and entries[0].kind == "cache"
    assert (entries[0].camera, entries[0].performer, entries[0].action, entries[0].action_name) == (1, 1, 11, "throw")
    assert window.open_entry(entries[4])
    seq = window.state.sequence
    assert seq.joint_names == KINECT20.joint_names and seq.data.shape[2:] == (20, 3)


def test_the_status_says_what_the_motion_bank_did(window, qloop):
    """A UTD-MHAD lunge with the right arm hidden 53 frames (limb_span:1-2, seed 0), reconstructed by the bundled
    real-motion checkpoint: the status line says the span was bent like recorded motion (the bank's report, not
    only that a bank exists)."""
    from app.workers.inference import model_info
    from dcmae_core.inference import Predictor

    predictor = Predictor.from_checkpoint(None, device="cpu")
    assert predictor.motion_bank is not None
    assert window.open_path(UTD / "a26_s4_t3_skeleton.mat")
    window.service.predictor = predictor
    window.state.set_model_info(model_info(predictor))
    assert window.controller.mask_spec("limb_span:1-2", 0)
    said: list[str] = []
    window.controller.status.connect(said.append)
    assert qloop.run_until_complete(window.start_inference())
    assert any("motion bank: 1 hidden span bent like recorded motion" in s for s in said), said
