"""The notice when a file's recorded action is not among the loaded model's classes."""

from __future__ import annotations

import pytest
from shared_data import SHARED_DATA

from app import core_bridge
from app.controller import unknown_action

CLASSES = ["NW-UCLA: throw", "NW-UCLA: carry", "UTD-MHAD: right arm throw", "UTD-MHAD: jogging in place"]


def test_known_and_unknown_actions():
    assert unknown_action("UTD-MHAD: right arm throw", CLASSES) == ""
    assert unknown_action("throw", CLASSES) == ""  # NTU's 'throw' is NW-UCLA's
    msg = unknown_action("reading", CLASSES)
    assert "'reading' is not among the 4 actions" in msg and "NW-UCLA, UTD-MHAD" in msg
    assert unknown_action("", CLASSES) == "" and unknown_action("reading", []) == ""


@pytest.mark.slow
def test_files_carry_their_action(ntu_files):
    utd = core_bridge.load_sequence(SHARED_DATA / "real" / "utd_mhad" / "a5_s2_t2_skeleton.mat")
    assert utd.action == "UTD-MHAD: right arm throw"
    ntu = core_bridge.load_sequence(ntu_files[-2])  # S001C003P008R002A058
    assert ntu.action == "handshaking" and unknown_action(ntu.action, CLASSES)
