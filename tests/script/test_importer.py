"""Importing into a project: drafting, re-import of revisions, and never losing work."""

import os
import signal
import subprocess
import sys
import textwrap

import pytest

from previz_app.domain.model import Shot, Take
from previz_app.domain.vocabulary import TakeKind
from previz_app.script import ScriptError
from previz_app.script.importer import import_script
from previz_app.store import cast, open_project, scenes, settings, shots, takes
from previz_app.store import operations as ops
from previz_app.store.media import add_media

from .synthetic import screenplay

V1 = """Title: Tide

INT. KITCHEN - NIGHT

Mara pours tea.

MARA
The light is out.

EXT. CLIFF - DAY

Tom runs along the edge.

INT. KITCHEN - NIGHT

The kettle screams. Nobody moves.
"""

V2 = """Title: Tide (revised)

INT. KITCHEN - NIGHT

Mara pours tea with shaking hands.

MARA
The light is out.

EXT. HARBOUR - DUSK

Boats knock together.

INT. KITCHEN - NIGHT

The kettle screams. Nobody moves.
"""


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def table_dump(db):
    return {t: db.execute(f"SELECT * FROM {t} ORDER BY 1").fetchall()
            for t in ("project", "scenes", "shots", "takes", "characters", "locations")}


def test_first_import_drafts_every_scene(folder, tmp_path):
    settings.update_project(folder.db, title="")
    report = import_script(folder, write(tmp_path, "v1.fountain", V1))
    assert len(report.added) == 3 and report.shots_drafted == len(shots.list_shots(folder.db))
    listed = scenes.list_scenes(folder.db)
    assert [s.number for s in listed] == ["1", "2", "3"]
    assert listed[0].characters == ("MARA",) and listed[1].characters == ()
    assert [s.number for s in shots.list_shots(folder.db, listed[0].id)] == ["1", "1A"]
    assert [c.name for c in cast.list_characters(folder.db)] == ["MARA"]
    assert [loc.name for loc in cast.list_locations(folder.db)] == ["CLIFF", "KITCHEN"]
    assert settings.read_project(folder.db).title == "Tide"  # from the title page, as none was set


def test_import_keeps_a_title_the_user_set(folder, tmp_path):
    import_script(folder, write(tmp_path, "v1.fountain", V1))
    assert settings.read_project(folder.db).title == "Film"


def test_reimport_updates_adds_marks_removed_and_keeps_user_work(folder, tmp_path):
    import_script(folder, write(tmp_path, "v1.fountain", V1))
    kitchen, cliff, kitchen_again = scenes.list_scenes(folder.db)
    # The user works: edits a drafted shot, adds a shot and a take to the cliff scene.
    first = shots.list_shots(folder.db, kitchen.id)[0]
    ops.perform(folder.db, ops.EditShot(first.id, "notes", "steam on the window"))
    ops.perform(folder.db, ops.InsertShot(cliff.id, 1))
    cliff_shot = shots.list_shots(folder.db, cliff.id)[0]
    media = add_media(folder.db, folder.media, b"drawn frame")
    takes.add_take(folder.db, Take(shot_id=cliff_shot.id, kind=TakeKind.drawn, media_hash=media))
    shot_count = folder.db["shots"].count

    report = import_script(folder, write(tmp_path, "v2.fountain", V2))
    assert report.updated == ["1 INT. KITCHEN - NIGHT"]
    assert report.added == ["2 EXT. HARBOUR - DUSK"]
    assert report.removed == ["2 EXT. CLIFF - DAY"]
    assert report.unchanged == 1

    listed = scenes.list_scenes(folder.db)
    assert [(s.id, s.removed) for s in listed] == [
        (kitchen.id, False), (listed[1].id, False), (kitchen_again.id, False), (cliff.id, True)]
    assert "shaking hands" in listed[0].script_text
    assert shots.get_shot(folder.db, first.id).notes == "steam on the window"
    assert len(shots.list_shots(folder.db, cliff.id)) == 2  # kept, with its take
    assert folder.db["takes"].count == 1
    assert folder.db["shots"].count == shot_count + len(shots.list_shots(folder.db, listed[1].id))

    # The cliff scene comes back in a later draft: restored with its shots.
    report = import_script(folder, write(tmp_path, "v3.fountain", V1))
    assert report.restored == ["2 EXT. CLIFF - DAY"]
    assert report.removed == ["2 EXT. HARBOUR - DUSK"]
    assert len(shots.list_shots(folder.db, cliff.id)) == 2


def test_reimport_of_the_same_script_changes_nothing(folder, tmp_path):
    path = write(tmp_path, "v1.fountain", V1)
    import_script(folder, path)
    before = table_dump(folder.db)
    report = import_script(folder, path)
    assert report.unchanged == 3 and not (report.added or report.updated or report.removed)
    assert table_dump(folder.db) == before


@pytest.mark.parametrize("content", [b"", b"\x00\x01binary" * 50, b"%PDF-1.4 nope", b"no headings here\n"])
def test_bad_input_leaves_the_project_untouched(folder, tmp_path, content):
    import_script(folder, write(tmp_path, "v1.fountain", V1))
    before = table_dump(folder.db)
    bad = tmp_path / "bad.fountain"
    bad.write_bytes(content)
    with pytest.raises(ScriptError):
        import_script(folder, bad)
    assert table_dump(folder.db) == before


def test_killed_in_the_middle_of_a_large_import_leaves_a_whole_project(folder, tmp_path):
    import_script(folder, write(tmp_path, "v1.fountain", V1))
    before = table_dump(folder.db)
    path = folder.path
    folder.close()
    big = write(tmp_path, "big.fountain", screenplay(pages=120))
    # Pause inside the import transaction, after many scenes were written, and kill.
    child = textwrap.dedent(
        """
        import sys, time
        from previz_app.script import importer
        from previz_app.store import open_project
        real, calls = importer.draft_shots, []
        def paused(*args, **kwargs):
            calls.append(1)
            if len(calls) == 60:
                print("mid-import", flush=True)
                time.sleep(120)
            return real(*args, **kwargs)
        importer.draft_shots = paused
        with open_project(sys.argv[1]) as folder:
            importer.import_script(folder, sys.argv[2])
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", child, str(path), str(big)], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "mid-import"
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL

    with open_project(path) as reopened:
        assert reopened.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert table_dump(reopened.db) == before  # the old state, whole
        report = import_script(reopened, big)  # and the import can simply run again
        assert reopened.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert len(scenes.list_scenes(reopened.db, include_removed=False)) == 120
        assert len(report.removed) == 3


def test_a_new_scene_with_the_same_heading_does_not_take_the_user_shots(folder, tmp_path):
    v1 = "INT. KITCHEN - NIGHT\n\nMara pours tea for two and waits by the window.\n\nEXT. CLIFF - DAY\n\nTom runs.\n"
    v2 = ("INT. KITCHEN - NIGHT\n\nA stranger breaks the back door and steals the radio.\n\n"
          "INT. KITCHEN - NIGHT\n\nMara pours tea for two and waits by the open window.\n\nEXT. CLIFF - DAY\n\nTom runs.\n")
    import_script(folder, write(tmp_path, "v1.fountain", v1))
    tea = scenes.list_scenes(folder.db)[0]
    ops.perform(folder.db, ops.InsertShot(tea.id, 0, Shot(action="close on teacup steam")))
    report = import_script(folder, write(tmp_path, "v2.fountain", v2))
    assert report.added == ["1 INT. KITCHEN - NIGHT"]
    assert report.updated == ["2 INT. KITCHEN - NIGHT", "3 EXT. CLIFF - DAY"]  # text; number
    stranger, tea_again, _ = scenes.list_scenes(folder.db)
    assert tea_again.id == tea.id
    assert "close on teacup steam" in [s.action for s in shots.list_shots(folder.db, tea.id)]
    assert "close on teacup steam" not in [s.action for s in shots.list_shots(folder.db, stranger.id)]


def test_reimport_keeps_scene_edits_the_script_did_not_change(folder, tmp_path):
    path = write(tmp_path, "v1.fountain", V1)
    import_script(folder, path)
    kitchen = scenes.list_scenes(folder.db)[0]
    for field, value in (("location", "MARA'S KITCHEN"), ("time_of_day", "DAWN"), ("characters", "MARA, TOM")):
        ops.perform(folder.db, ops.EditScene(kitchen.id, field, value))
    edited = scenes.get_scene(folder.db, kitchen.id)
    report = import_script(folder, path)
    assert report.unchanged == 3
    assert scenes.get_scene(folder.db, kitchen.id) == edited
    # When the script does change the heading, the script wins for the heading's parts.
    import_script(folder, write(tmp_path, "v2.fountain", V1.replace("INT. KITCHEN - NIGHT\n\nMara", "INT. KITCHEN - DAY\n\nMara", 1)))
    kitchen = scenes.get_scene(folder.db, kitchen.id)
    assert (kitchen.location, kitchen.time_of_day.value) == ("KITCHEN", "DAY")


def test_unnumbered_scenes_never_take_a_written_number(folder, tmp_path):
    text = "INT. A - DAY #2#\n\nOne.\n\nINT. B - DAY\n\nTwo.\n\nINT. C - DAY #12#\n\nThree.\n\nINT. D - DAY\n\nFour.\n\nINT. E - DAY #13#\n\nFive.\n"
    import_script(folder, write(tmp_path, "n.fountain", text))
    assert [s.number for s in scenes.list_scenes(folder.db)] == ["2", "3", "12", "14", "13"]
