"""The desktop app: everything Qt lives here and calls the layers below it."""

from ._pyside_guard import guard_signal_emit_refcount

guard_signal_emit_refcount()
