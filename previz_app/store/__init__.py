"""SQLite through sqlite-utils: the only place rows become dataclasses.

A project is a folder `Name.previz/` holding `project.db` and `media/`.
"""

from .errors import ProjectError, ProjectTooNewError
from .folder import ProjectFolder, create_project, open_project

__all__ = ["ProjectError", "ProjectFolder", "ProjectTooNewError", "create_project", "open_project"]
