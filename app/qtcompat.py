"""Work-around for a reference-count bug of PySide6 6.12 on CPython < 3.12.

PySide6 6.12.0 returns None/True/False from C++ calls without taking a reference (correct only since
CPython 3.12, where these singletons are immortal, PEP 683). On 3.11 every `painter.drawLine(...)`
or `widget.update()` therefore drops one reference to None, and after some thousands of calls the
interpreter aborts with "Fatal Python error: none_dealloc". We give None, True and False a very
large reference count once, which is what 3.12 does: they are never freed anyway (freeing them is
itself the fatal error). Import this module before any Qt call; it is a no-op elsewhere.
"""

from __future__ import annotations

import ctypes
import platform
import sys

_PINNED = False
_BIAS = 1 << 40  # ~1e12 references: more calls than a session can make


def pin_singletons() -> bool:
    """Make None/True/False effectively immortal on CPython < 3.12; True if anything was changed."""
    global _PINNED
    if _PINNED or sys.version_info >= (3, 12) or platform.python_implementation() != "CPython":
        return False
    for obj in (None, True, False):
        ctypes.c_ssize_t.from_address(id(obj)).value += _BIAS  # ob_refcnt is the object's first field
    _PINNED = True
    return True


pin_singletons()
