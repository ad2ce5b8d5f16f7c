"""Errors the store raises; each message says what a user can do about it."""


class ProjectError(Exception):
    """A project folder cannot be created, opened or written."""


class ProjectTooNewError(ProjectError):
    """The project was written by a newer previz; opening it would risk the user's work."""


class MediaWriteError(ProjectError):
    """A media file could not be written (disk full, permissions)."""
