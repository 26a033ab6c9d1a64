"""Files shipped inside the package: presets (`configs/*.toml`), the bundled checkpoints (`checkpoints/*.pt`),
NTU action names and the official lists of samples without skeletons.

The one way to find them, from a source checkout, an editable install or a wheel: `bundled(...)`.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def bundled(*parts: str) -> Path:
    """The path of a file or folder shipped in this package, e.g. `bundled("configs", "tiny.toml")`.

    pip unpacks wheels into plain folders, so the result is a real path (torch.load and glob need one).
    """
    return Path(str(resources.files(__name__).joinpath(*parts)))
