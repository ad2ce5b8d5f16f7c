class ScriptError(ValueError):
    """A screenplay file cannot be read; the message names the problem and the file."""
