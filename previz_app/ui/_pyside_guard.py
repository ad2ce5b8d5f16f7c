"""A guard against a PySide6 reference-count bug, applied once when `ui` is imported.

PySide6 6.12's `SignalInstance.emit()` returns `True` without taking a reference for
it, so every emit from Python takes one reference away from `True`. On Python 3.11
`True` is not yet immortal (it is from 3.12): after a few thousand emits the
interpreter aborts with "bool_dealloc". The guard measures one emit and, only when it
leaks, gives `True` references enough for any session.
"""

from __future__ import annotations

import ctypes
import sys

from PySide6.QtCore import QObject, Signal


class _Probe(QObject):
    probed = Signal()


def emit_leaks_a_reference() -> bool:
    probe = _Probe()
    before = sys.getrefcount(True)
    probe.probed.emit()  # the returned True is dropped at once
    return sys.getrefcount(True) < before


def guard_signal_emit_refcount() -> bool:
    """Make `True` outlive the leak when this PySide6 has it; return whether it did."""
    if sys.version_info >= (3, 12) or not emit_leaks_a_reference():
        return False
    # CPython 3.11 keeps the reference count in the first word of the object.
    ctypes.c_ssize_t.from_address(id(True)).value += 1 << 40
    return True
