"""The `previz` command: every subcommand documented, errors one line, JSON listings."""

import json
import subprocess
import sys
from pathlib import Path

import click
import pytest

from previz_app.cli import cli
from tests.cli.runner import run


def all_commands(group=cli, prefix=()):
    for name, command in group.commands.items():
        yield prefix + (name,), command
        if isinstance(command, click.Group):
            yield from all_commands(command, prefix + (name,))


def test_every_command_has_help():
    undocumented = [" ".join(path) for path, command in all_commands() if not (command.help or "").strip()]
    assert undocumented == []
    for path, command in all_commands():
        for param in command.params:
            if isinstance(param, click.Option):
                assert param.help, f"option {param.opts} of {' '.join(path)} has no help"


def test_subcommands_named_in_the_readme_exist():
    assert {"new", "import-script", "scenes", "shots", "info", "demo"} <= set(cli.commands)


def test_new_import_and_list(capsys, tmp_path, data_dir):
    code, out, _ = run(capsys, "new", tmp_path / "Film", "--title", "Night Diner", "--aspect", "2.39", "--fps", "23.976")
    assert code == 0 and "Film.previz" in out
    code, out, _ = run(capsys, "import-script", tmp_path / "Film", data_dir / "nasty.fountain")
    assert code == 0 and "4 scenes added" in out

    code, out, _ = run(capsys, "scenes", tmp_path / "Film.previz", "--json")
    listed = json.loads(out)
    assert [s["heading"] for s in listed][:2] == ["INT. ALL-NIGHT DINER - NIGHT", "EXT. DINER PARKING LOT - CONTINUOUS"]
    assert listed[1]["number"] == "12A" and listed[0]["shot_count"] >= 3

    code, out, _ = run(capsys, "shots", tmp_path / "Film", "--scene", "12A", "--json")
    assert code == 0
    assert [s["number"] for s in json.loads(out)] == ["12A"]

    code, out, _ = run(capsys, "shots", tmp_path / "Film")
    assert code == 0 and "OTS" in out and "TWO_SHOT" in out

    code, out, _ = run(capsys, "info", tmp_path / "Film", "--json")
    facts = json.loads(out)
    assert facts["title"] == "Night Diner" and facts["aspect_ratio"] == 2.39 and facts["fps"] == 23.976
    assert facts["scenes"] == 4 and facts["characters"] == ["JO", "SAM"] and facts["running_time_seconds"] > 10
    code, out, _ = run(capsys, "info", tmp_path / "Film")
    assert "2.39:1, 23.976 fps" in out


def test_import_creates_the_project_from_the_title_page(capsys, tmp_path, data_dir):
    code, out, _ = run(capsys, "import-script", tmp_path / "Map", data_dir / "sample.fdx", "--json")
    assert code == 0 and json.loads(out)["added"] == ["1 INT. ATTIC - NIGHT", "2 EXT. GARDEN - DAY"]
    code, out, _ = run(capsys, "info", tmp_path / "Map", "--json")
    assert json.loads(out)["title"] == "THE MAP"


def test_a_bad_script_makes_no_project(capsys, tmp_path):
    bad = tmp_path / "bad.fountain"
    bad.write_bytes(b"")
    code, _, err = run(capsys, "import-script", tmp_path / "Never", bad)
    assert code == 1 and err == "previz: error: bad.fountain is empty\n"
    assert not (tmp_path / "Never.previz").exists()


@pytest.mark.parametrize(
    "args, message",
    [
        (("scenes", "{tmp}/nothing"), "previz: error: no previz project at"),
        (("new", "{tmp}/X", "--title", "X", "--aspect", "1.5"), "previz: error: unsupported aspect ratio 1.5"),
        (("shots", "{tmp}/P", "--scene", "99"), "previz: error: no scene numbered '99'"),
        (("new", "{tmp}/P", "--title", "Again"), "previz: error: "),
    ],
)
def test_errors_are_one_line_without_traceback(capsys, tmp_path, args, message):
    run(capsys, "new", tmp_path / "P", "--title", "P")
    code, _, err = run(capsys, *[a.format(tmp=tmp_path) for a in args])
    assert code == 1
    assert err.startswith(message) and err.count("\n") == 1 and "Traceback" not in err


def test_usage_errors_exit_2(capsys):
    code, _, err = run(capsys, "new")
    assert code == 2 and "Missing argument" in err


def test_the_installed_command_runs(tmp_path):
    previz = Path(sys.executable).parent / "previz"
    result = subprocess.run([str(previz), "--help"], capture_output=True, text=True)
    assert result.returncode == 0 and "import-script" in result.stdout


def test_database_errors_are_one_line(capsys, tmp_path, monkeypatch):
    import sqlite3

    from previz_app.store import scenes

    run(capsys, "new", tmp_path / "P", "--title", "P")

    def locked(*args, **kwargs):
        raise sqlite3.OperationalError("database is locked")

    monkeypatch.setattr(scenes, "list_scenes", locked)
    code, _, err = run(capsys, "scenes", tmp_path / "P")
    assert code == 1 and err.startswith("previz: error: the project database refused: database is locked")
    assert err.count("\n") == 1


def test_scene_option_is_exact_and_case_blind(capsys, tmp_path, data_dir):
    run(capsys, "import-script", tmp_path / "Film", data_dir / "nasty.fountain")
    code, out, _ = run(capsys, "shots", tmp_path / "Film", "--scene", "12a", "--json")
    assert code == 0 and [s["number"] for s in json.loads(out)] == ["12A"]
    code, _, err = run(capsys, "shots", tmp_path / "Film", "--scene", "")
    assert code == 1 and "no scene numbered ''" in err
