"""previz: film previsualization and storyboarding, local and private."""

__version__ = "0.1.0"
