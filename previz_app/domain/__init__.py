"""Dataclasses and pure functions of the film: no I/O, no Qt."""
