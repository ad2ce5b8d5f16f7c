"""The diffusers backend: models the user already has, every mode, previews, cancel.

Imported only when a session asks for the diffusers engine: it pulls in torch and
diffusers, which take seconds to import.
"""

from .engine import DiffusersEngine

__all__ = ["DiffusersEngine"]
