"""The guard against PySide6 6.12's emit() reference leak on Python 3.11."""

import sys

from PySide6.QtCore import QObject, Signal

import previz_app.ui  # noqa: F401 - importing ui applies the guard
from previz_app.ui._pyside_guard import emit_leaks_a_reference


class Chatty(QObject):
    said = Signal(int)


def test_many_emits_from_python_cannot_free_true():
    if sys.version_info < (3, 12) and emit_leaks_a_reference():
        assert sys.getrefcount(True) > 2**39  # the guard gave True references to spare
    chatty = Chatty()
    heard = []
    chatty.said.connect(heard.append)
    for value in range(20_000):  # without the guard, 3.11 aborts after a few thousand
        chatty.said.emit(value)
    assert len(heard) == 20_000 and heard[-1] == 19_999
