"""A guard against a PySide6 reference-count bug, applied once when `ui` is imported.

PySide6 6.12.0 hands `None` (from every void call: `painter.save()`, `setEnabled`...)
and `True` (from `Signal.emit()`) back to Python without the reference it owes, as
if they were immortal, which they are only from Python 3.12. On Python 3.11 each call
takes one reference away, and after a few hundred board repaints the interpreter
aborts ("none_dealloc"). pyproject.toml excludes 6.12.0; this guard protects anyone
who has it anyway: it measures one call of each kind and, only when one leaks, gives
`None`, `True` and `False` references enough for any session.
"""

from __future__ import annotations

import ctypes
import sys

from PySide6.QtCore import QObject, Signal


class _Probe(QObject):
    probed = Signal()


def calls_leak_references() -> bool:
    """True when this PySide6 drops a reference to None or True on each call."""
    probe = _Probe()
    none_before, true_before = sys.getrefcount(None), sys.getrefcount(True)
    probe.setObjectName("probe")  # a void call: returns None
    probe.probed.emit()  # returns True
    return sys.getrefcount(None) < none_before or sys.getrefcount(True) < true_before


def guard_leaked_references() -> bool:
    """Make None, True and False outlive the leak when this PySide6 has it; return
    whether it did."""
    if sys.version_info >= (3, 12) or not calls_leak_references():
        return False
    for singleton in (None, True, False):
        # CPython 3.11 keeps the reference count in the first word of the object.
        ctypes.c_ssize_t.from_address(id(singleton)).value += 1 << 40
    return True
