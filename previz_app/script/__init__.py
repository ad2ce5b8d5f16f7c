"""Screenplay import (Fountain, Final Draft) and the first draft of shots."""

from .errors import ScriptError

__all__ = ["ScriptError"]
