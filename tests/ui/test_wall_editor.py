"""The wall editor: the figures follow every edit and agree with the domain's canvas,
a wall that cannot be is refused in words, and walls are kept in the project (undoably)
and in JSON files."""

import json

import pytest

from previz_app.domain.wall import Cabinet, WallProfile, WallSection, profile_json, profile_to_dict, wall_canvas
from previz_app.store import walls
from previz_app.ui.wall_editor import WallEditorWidget, figures_text

FLAT = WallProfile("Stage B", (WallSection("flat", Cabinet(500, 500, 2.5), 3.0, width_m=10.0, viewer_distance_m=6.0),),
                   output_capacity=525_000)
RING = WallProfile("Volume", (WallSection("curved", Cabinet(500, 500, 2.84), 6.0, radius_m=11.4, arc_deg=270),))


@pytest.fixture
def make_editor(qtbot):
    def make(state=None, profile=FLAT):
        editor = WallEditorWidget(state)
        qtbot.addWidget(editor)
        editor.set_profile(profile)
        return editor

    return make


def test_the_figures_follow_each_edit_and_match_the_canvas(make_editor, qtbot):
    editor = make_editor()
    assert editor.profile() == FLAT
    # By hand: 500 mm at 2.5 mm is 200 px a cabinet; 10 m is 20 columns, 3 m 6 rows.
    assert "Canvas 4,000 × 1,200 px" in editor.figures_label.text()
    assert "10 processor outputs" in editor.figures_label.text()  # 4.8 MP / 525,000 = 9.1
    assert "120 cabinets of 200 × 200 px: 20 columns × 6 rows" in editor.figures_label.text()

    with qtbot.waitSignal(editor.profile_changed):
        editor.cell(0, "width_m").setValue(5.0)
    assert editor.canvas() == wall_canvas(editor.profile())
    assert "Canvas 2,000 × 1,200 px" in editor.figures_label.text()
    assert "5 processor outputs" in editor.figures_label.text()

    editor.cell(0, "kind").setCurrentIndex(editor.cell(0, "kind").findData("curved"))
    assert editor.cell(0, "radius_m").isEnabled() and not editor.cell(0, "width_m").isEnabled()
    assert editor.error() == "the wall: a curved wall needs a radius above zero, not 0.0 m"
    editor.cell(0, "radius_m").setValue(11.4)
    editor.cell(0, "arc_deg").setValue(270)
    editor.cell(0, "pitch_mm").setValue(2.84)
    editor.cell(0, "height_m").setValue(6)
    assert editor.profile() == WallProfile("Stage B", RING.sections)
    canvas = wall_canvas(RING)
    assert editor.canvas() == canvas
    assert editor.figures_label.text() == figures_text(canvas)
    assert f"{canvas.pixels_per_degree:.1f} px/°" in editor.figures_label.text()

    editor.add_section()
    assert editor.table.rowCount() == 2 and editor.profile().sections[1].kind == "flat"
    both = wall_canvas(editor.profile())
    assert both.width_px == canvas.width_px + both.sections[1].width_px
    assert f"Canvas {both.width_px:,} × " in editor.figures_label.text()
    editor.remove_section(1)
    assert editor.canvas() == canvas


@pytest.mark.parametrize(("field", "value", "message"), [
    ("radius_m", 0.0, "a curved wall needs a radius above zero"),
    ("arc_deg", 400.0, "the arc must be more than 0° and at most 360°, not 400.0°"),
    ("pitch_mm", 600.0, "a pitch of 600 mm is larger than its 500×500 mm cabinet"),
])
def test_a_wall_that_cannot_be_shows_why(make_editor, field, value, message):
    editor = make_editor(profile=RING)
    assert editor.error() == "" and editor.error_label.isHidden()
    editor.cell(0, field).setValue(value)
    assert message in editor.error() and editor.error_label.text() == editor.error()
    assert not editor.error_label.isHidden() and "color: #d04040" in editor.error_label.styleSheet()
    assert editor.canvas() is None and editor.figures_label.text() == ""
    assert not editor.save_json_button.isEnabled()


def test_walls_are_kept_in_the_project_and_undo_takes_them_back(make_editor, state):
    editor = make_editor(state, RING)
    assert editor.stored_combo.currentData() is None and not editor.delete_button.isEnabled()
    assert editor.save_to_project()
    assert walls.get_wall(state.db, "Volume") == RING
    assert editor.stored_combo.currentData() == "Volume"

    editor.set_profile(FLAT)
    assert editor.save_to_project()
    assert walls.wall_names(state.db) == ["Volume", "Stage B"]
    assert editor.load_stored("Volume") and editor.profile() == RING

    state.undo_stack.undo()  # the second save
    assert walls.wall_names(state.db) == ["Volume"]
    assert [editor.stored_combo.itemData(i) for i in range(editor.stored_combo.count())] == ["Volume"]

    editor.stored_combo.setCurrentIndex(0)
    assert editor.delete_from_project()
    assert walls.wall_names(state.db) == [] and editor.stored_combo.currentData() is None
    state.undo_stack.undo()
    assert walls.get_wall(state.db, "Volume") == RING and editor.stored_combo.currentData() == "Volume"

    editor.cell(0, "radius_m").setValue(0)
    assert not editor.save_button.isEnabled() and not editor.save_to_project()
    assert walls.get_wall(state.db, "Volume") == RING
    assert not editor.load_stored("Nowhere") and "no wall named 'Nowhere'" in editor.status_label.text()


def test_walls_load_from_and_save_to_json(make_editor, tmp_path):
    editor = make_editor(profile=RING)
    out = tmp_path / "volume.json"
    assert editor.save_json(out)
    written = json.loads(out.read_text(encoding="utf-8"))
    assert written == json.loads(json.dumps(profile_to_dict(RING)))  # tuples as JSON lists
    assert written["sections"][0]["radius_m"] == 11.4 and written["sections"][0]["cabinet"]["pitch_mm"] == 2.84

    hand = tmp_path / "stage.json"
    hand.write_text(profile_json(FLAT), encoding="utf-8")
    assert editor.load_json(hand) and editor.profile() == FLAT

    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({**profile_to_dict(RING), "sections": [{**profile_to_dict(RING)["sections"][0],
                                                                       "arc_deg": 400}]}), encoding="utf-8")
    assert not editor.load_json(bad)
    assert "at most 360°" in editor.status_label.text() and editor.profile() == FLAT


def test_an_editor_opens_on_the_projects_first_wall(make_editor, state, qtbot):
    assert make_editor(state, RING).save_to_project()
    editor = WallEditorWidget(state)
    qtbot.addWidget(editor)
    assert editor.profile() == RING and editor.stored_combo.currentData() == "Volume"


def test_delete_removes_the_stored_wall_being_edited(make_editor, state, tmp_path):
    editor = make_editor(state, RING)
    assert editor.delete_button.text() == "Delete" and not editor.delete_button.isEnabled()
    assert editor.save_to_project()
    editor.set_profile(FLAT)
    assert editor.save_to_project()
    assert editor.load_stored("Volume")
    assert editor.stored_combo.currentData() == "Volume" and editor.delete_button.text() == "Delete “Volume”"

    hand = tmp_path / "stage.json"
    hand.write_text(profile_json(FLAT), encoding="utf-8")
    assert editor.load_json(hand)  # a wall from a file is none of the project's, whatever its name
    assert editor.stored_combo.currentData() is None and editor.stored_combo.currentText() == "Not in the project"
    assert not editor.delete_button.isEnabled() and not editor.delete_from_project()
    assert walls.wall_names(state.db) == ["Volume", "Stage B"]

    assert editor.load_stored("Stage B")
    editor.name_edit.setText("Stage C")  # renamed as typed: Delete still means the stored one shown
    assert editor.delete_from_project()
    assert walls.wall_names(state.db) == ["Volume"] and editor.profile().name == "Stage C"
    state.undo_stack.undo()
    assert editor.stored_combo.currentData() == "Stage B" and editor.delete_button.text() == "Delete “Stage B”"


def test_a_large_file_is_not_read_as_a_wall(make_editor, tmp_path):
    editor = make_editor(profile=RING)
    big = tmp_path / "scan.json"
    big.write_bytes(b" " * 1_500_000)
    assert not editor.load_json(big)
    assert editor.status_label.text() == ("Cannot load scan.json: it is 1.5 MB; a wall profile is a small JSON file, "
                                          "at most 1 MB")
    assert editor.status_label.error and editor.profile() == RING
    assert not editor.load_json(tmp_path / "none.json")
    assert editor.status_label.text() == "Cannot load none.json: No such file or directory"
