"""Running `previz` in-process for the CLI tests."""

import pytest

from previz_app.cli import main


def run(capsys, *args):
    """Run `previz ARGS` in-process; return (exit code, stdout, stderr)."""
    with pytest.raises(SystemExit) as exit_info:
        main(list(map(str, args)))
    out, err = capsys.readouterr()
    return exit_info.value.code, out, err
