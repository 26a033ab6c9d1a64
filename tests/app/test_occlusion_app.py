"""The app's named occlusion patterns are the core's: the mask editor's pattern with seed s gives exactly the mask
of `reconstruct --mask PATTERN --seed s`, and manual masking keeps working beside them."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PySide6.QtCore import Qt

from app import core_bridge
from dcmae_core.layout import NTU25
from dcmae_core.occlusion import PATTERNS, occlusion_mask
from dcmae_core.train import main
from tests.conftest import NTU_SAMPLES

TWO = NTU_SAMPLES / "S001C003P008R002A058.skeleton"  # two persons (handshaking)


def _apply(window, qtbot, name: str, args: str, seed: int) -> np.ndarray:
    ed = window.mask_editor
    ed.pattern.setCurrentIndex(ed.pattern.findData(name))
    ed.pattern_args.setText(args)
    ed.seed.setValue(seed)
    qtbot.mouseClick(ed.apply_pattern, Qt.MouseButton.LeftButton)
    return window.state.mask.copy()


def test_editor_lists_every_pattern_with_its_description(window):
    ed = window.mask_editor
    names = [ed.pattern.itemData(i) for i in range(ed.pattern.count())]
    assert names == list(PATTERNS)
    for i, name in enumerate(names):
        assert ed.pattern.itemData(i, Qt.ItemDataRole.ToolTipRole) == PATTERNS[name]
    ed.pattern.setCurrentIndex(names.index("limb_span"))
    assert ed.pattern.toolTip() == PATTERNS["limb_span"]


@pytest.mark.slow
def test_bridge_mask_is_the_core_mask(window):
    window.open_path(TWO)
    seq = window.state.sequence
    present = torch.from_numpy(seq.present)[None]
    x = torch.from_numpy(seq.data)[None]
    for name in ["limb_span", "frame_burst:3,0.1-0.3", "random:0.2", "person_part"]:
        core = occlusion_mask(name, present, NTU25, torch.Generator().manual_seed(7), x=x)[0].numpy()
        assert core.any() and np.array_equal(core_bridge.occlusion(name, seq, 7), core), name


@pytest.mark.slow
def test_app_seed_gives_the_cli_mask(window, qtbot, tmp_path):
    window.open_path(TWO)
    for name, args in [("limb_span", "1-1.5"), ("person_part", "")]:
        spec = f"{name}:{args}" if args else name
        saved = tmp_path / f"{name}.json"
        assert (
            main(
                [
                    "reconstruct",
                    str(TWO),
                    "-o",
                    str(tmp_path / "rec.npy"),
                    "--mask",
                    spec,
                    "--seed",
                    "7",
                    "--save-mask",
                    str(saved),
                    "--device",
                    "cpu",
                ]
            )
            == 0
        )
        info = json.loads(saved.read_text())
        cli = np.zeros(info["shape"], dtype=bool)
        cli[tuple(np.asarray(info["removed"]).T)] = True
        app = _apply(window, qtbot, name, args, 7)
        assert app.any() and np.array_equal(app, cli), spec
        assert not np.array_equal(_apply(window, qtbot, name, args, 8), cli) or name == "person_part"


@pytest.mark.slow
def test_bad_pattern_arguments_are_a_dialog_and_manual_masking_still_works(window, qtbot, dialogs):
    window.open_path(TWO)
    st = window.state
    _apply(window, qtbot, "limb_span", "3-1", 0)
    assert dialogs and "limb_span" in dialogs[-1][1] and not st.mask.any()
    lower = _apply(window, qtbot, "lower_body", "", 0)
    legs = sorted(NTU25.groups["left leg"] + NTU25.groups["right leg"])
    assert lower[:, :, legs][st.sequence.present].all() and lower.sum() == st.sequence.present.sum() * len(legs)
    ed = window.mask_editor
    ed.part_checks["head"].setChecked(True)
    qtbot.mouseClick(ed.mask_parts, Qt.MouseButton.LeftButton)  # parts add to the pattern's mask
    head = list(NTU25.groups["head"])
    assert (st.mask & lower).sum() == lower.sum() and st.mask[:, :, head][st.sequence.present].all()
    qtbot.mouseClick(ed.edit_buttons["undo"], Qt.MouseButton.LeftButton)
    assert np.array_equal(st.mask, lower)
    assert window.controller.mask_spec("limb_clip", seed=4)  # the command-line word takes patterns too
    assert np.array_equal(st.mask, core_bridge.occlusion("limb_clip", st.sequence, 4))
