"""NTU sample names (`S001C002P003R002A013`) and the 120 NTU RGB+D 120 action names."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import PurePath

from dcmae_core.resources import bundled

_NAME_RE = re.compile(r"S(\d{3})C(\d{3})P(\d{3})R(\d{3})A(\d{3})")
_TWO_PERSON = frozenset(range(50, 61)) | frozenset(range(106, 121))  # A050-A060, A106-A120
NUM_ACTIONS = 120


@dataclass(frozen=True)
class SampleName:
    """The five 1-based fields of an NTU sample name; `str()` gives `S001C002P003R002A013`."""

    setup: int
    camera: int
    performer: int
    replication: int
    action: int

    def __post_init__(self) -> None:
        for field_name in ("setup", "camera", "performer", "replication", "action"):
            value = getattr(self, field_name)
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 999:
                raise ValueError(f"sample name field {field_name} must be an int in 1..999, got {value!r}")

    def __str__(self) -> str:
        return f"S{self.setup:03d}C{self.camera:03d}P{self.performer:03d}R{self.replication:03d}A{self.action:03d}"


def parse_sample_name(name_or_path: str | os.PathLike[str]) -> SampleName:
    """Parse `SsssCcccPpppRrrrAaaa` at the start of a file name (any folder or extension)."""
    base = PurePath(os.fspath(name_or_path)).name
    m = _NAME_RE.match(base)
    if m is None:
        raise ValueError(
            f"{str(name_or_path)!r} is not an NTU sample name: expected SsssCcccPpppRrrrAaaa "
            "(e.g. S001C002P003R002A013) at the start of the file name"
        )
    try:
        return SampleName(*(int(g) for g in m.groups()))
    except ValueError as exc:
        raise ValueError(f"{str(name_or_path)!r} is not an NTU sample name: {exc}") from None


def _load_action_names() -> tuple[str, ...]:
    text = bundled("ntu120_action_names.txt").read_text("utf-8")
    names = tuple(line.strip() for line in text.splitlines() if line.strip())
    if len(names) != NUM_ACTIONS:
        raise RuntimeError(f"ntu120_action_names.txt holds {len(names)} names, expected {NUM_ACTIONS}")
    return names


ACTION_NAMES: tuple[str, ...] = _load_action_names()  # ACTION_NAMES[a - 1] is action a


def _check_action(action: int) -> int:
    if isinstance(action, bool) or not isinstance(action, int) or not 1 <= action <= NUM_ACTIONS:
        raise ValueError(f"action must be an int in 1..{NUM_ACTIONS}, got {action!r}")
    return action


def action_name(action: int) -> str:
    """Name of NTU action `action` (1-based, 1..120)."""
    return ACTION_NAMES[_check_action(action) - 1]


def is_two_person(action: int) -> bool:
    """True for the interactions A050-A060 and A106-A120."""
    return _check_action(action) in _TWO_PERSON
