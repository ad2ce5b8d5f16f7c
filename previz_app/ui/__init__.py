"""The desktop app: everything Qt lives here and calls the layers below it."""

from ._pyside_guard import guard_leaked_references

guard_leaked_references()
