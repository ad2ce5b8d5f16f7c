"""The guard against PySide6 6.12.0's reference leaks on Python 3.11."""

import sys

from PySide6.QtCore import QObject, Signal

import previz_app.ui  # noqa: F401 - importing ui applies the guard
from previz_app.ui._pyside_guard import calls_leak_references


class Chatty(QObject):
    said = Signal(int)


def test_many_calls_from_python_cannot_free_none_or_true():
    if sys.version_info < (3, 12) and calls_leak_references():
        assert min(sys.getrefcount(None), sys.getrefcount(True)) > 2**39  # the guard gave references to spare
    chatty = Chatty()
    heard = []
    chatty.said.connect(heard.append)
    for value in range(20_000):  # an unguarded leak aborts 3.11 after a few thousand
        chatty.said.emit(value)
        chatty.setObjectName("chatty")
    assert len(heard) == 20_000 and heard[-1] == 19_999
