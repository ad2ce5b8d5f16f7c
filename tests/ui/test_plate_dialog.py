"""The LED-wall plate dialog: a wall that cannot be is refused before export, the
source (a file, a take) is read off the GUI thread with its projection kept for each
picture, the preview shows the plate with its tiles outlined (greyed while it updates),
Export writes the tiles and their sidecar (or, cancelled, nothing), the hidden dialog
reads nothing, and Undo works from it. (Generating: test_plate_generate.py.)"""

import json
import threading

import numpy as np
import shiboken6
import tifffile
from PIL import Image
from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QMainWindow, QToolButton

from previz_app.domain.wall import wall_canvas
from previz_app.engine.base import Cancelled
from previz_app.export.plate import export_plate
from previz_app.export.plate_preview import draw_tile_bounds, preview_plate
from previz_app.export.plate_tiles import plan_tiles
from previz_app.store import walls
from previz_app.ui import plate_source
from previz_app.ui.export_actions import ExportActions
from previz_app.ui.images import pil_from_qimage
from previz_app.ui.plate_dialog import PlateDialog
from previz_app.ui.plate_preview import UPDATING

from .plate_fixtures import (
    RING,
    add_take,
    fmt,
    make_dialog_fixture,  # noqa: F401 - the fixture make_dialog
    smooth_panorama,
    with_file_source,
    with_file_source_started,
)


def test_a_wall_that_cannot_be_disables_export(make_dialog, qtbot, tmp_path):
    dialog = make_dialog()
    with_file_source(qtbot, dialog, smooth_panorama(tmp_path / "pano.png"))
    assert dialog.export_button.isEnabled()
    dialog.wall_editor.cell(0, "arc_deg").setValue(400)
    assert "the arc must be more than 0° and at most 360°" in dialog.wall_editor.error_label.text()
    assert not dialog.wall_editor.error_label.isHidden()
    assert not dialog.export_button.isEnabled()
    assert not dialog.start_export()
    assert dialog.message_label.text().startswith("Correct the wall first: the wall: the arc must be")
    assert not dialog.preview.picture_label.isEnabled()  # greyed: not what would be exported
    dialog.wall_editor.cell(0, "arc_deg").setValue(360)
    assert dialog.export_button.isEnabled()


def test_the_preview_shows_the_plate_with_its_tiles_outlined(make_dialog, qtbot, tmp_path):
    dialog = make_dialog()
    with_file_source(qtbot, dialog, smooth_panorama(tmp_path / "pano.png"))
    assert dialog.source.kind() == "equirect"  # a 2:1 picture is taken for a 360° panorama
    preview = dialog.preview.preview
    assert preview.pixels.ndim == 3 and preview.pixels.shape[2] == 3 and preview.pixels.std() > 10
    assert preview.tiles == plan_tiles(wall_canvas(RING), RING.output_capacity) and len(preview.tiles) == 8
    shown = np.asarray(pil_from_qimage(dialog.preview.image).convert("RGB"))
    outlined = draw_tile_bounds(preview)
    assert np.array_equal(shown, outlined)
    changed = np.any(outlined != preview.pixels, axis=2)
    edge = round(preview.tiles[1].x * preview.scale)  # the boundary between the first two tiles
    assert changed[:, max(0, edge - 1):edge + 2].any(axis=1).mean() > 0.9  # a line down the whole edge
    assert changed.mean() < 0.2  # lines, not a wash over the picture
    # 512 px round 360° is 1.4 px/° on a wall of 5.3: the preview says so.
    assert not dialog.preview.warning_label.isHidden()
    assert "px/°" in dialog.preview.warning_label.text()

    dialog.wall_editor.cell(0, "height_m").setValue(0.5)  # one row of cabinets: a new preview
    qtbot.waitUntil(dialog.preview_ready, timeout=20_000)
    assert dialog.preview.inputs.wall.sections[0].height_m == 0.5
    assert dialog.preview.preview.pixels.shape[0] < preview.pixels.shape[0]


def test_a_take_is_a_source(make_dialog, qtbot, state):
    frame = np.zeros((90, 160, 3), np.uint8)
    frame[:, :, 0] = np.linspace(0, 255, 160, dtype=np.uint8)[None, :]
    shot, take_id = add_take(state, frame)
    dialog = make_dialog()
    qtbot.waitUntil(lambda: dialog.source.take_combo.findData(take_id) >= 0, timeout=10_000)
    dialog.source.choose_take(take_id)
    qtbot.waitUntil(dialog.preview_ready, timeout=20_000)
    picture = dialog.source.picture()
    assert np.array_equal(picture.pixels, frame) and dialog.source.kind() == "wide"
    assert f"take {take_id} of shot {shot.number}" in dialog.source.info_label.text()


def test_the_format_options_follow_the_format(make_dialog, qtbot, tmp_path):
    dialog = make_dialog()
    with_file_source(qtbot, dialog, smooth_panorama(tmp_path / "pano.png"))
    assert dialog.request().format == "exr" and dialog.request().out == dialog.state.folder.exports_dir / "plate"
    assert not dialog.dither_check.isVisibleTo(dialog) and not dialog.seconds_spin.isVisibleTo(dialog)
    fmt(dialog, "png8")
    assert dialog.dither_check.isVisibleTo(dialog) and not dialog.seconds_spin.isVisibleTo(dialog)
    dialog.dither_check.setChecked(False)
    dialog.lowpass_spin.setValue(1.5)
    dialog.path_edit.setText("stage_b")
    request = dialog.request()
    assert (request.format, request.dither, request.lowpass) == ("png8", False, 1.5)
    assert request.out == dialog.state.folder.exports_dir / "stage_b" and not request.save_source
    fmt(dialog, "prores")
    assert dialog.seconds_spin.isVisibleTo(dialog) and not dialog.dither_check.isVisibleTo(dialog)
    dialog.seconds_spin.setValue(4)
    assert (dialog.request().format, dialog.request().seconds) == ("prores", 4)

    elsewhere = tmp_path / "notes"  # exporting replaces the folder: the export refuses one holding other files
    elsewhere.mkdir()
    (elsewhere / "todo.txt").write_text("keep me", encoding="utf-8")
    dialog.path_edit.setText(str(elsewhere))
    with qtbot.waitSignal(dialog.runner.ended, timeout=20_000):
        assert dialog.start_export()
    assert dialog.message_label.text() == (f"Export failed: cannot write the plate into {elsewhere}: it holds other "
                                           "files (todo.txt); choose an empty folder or an earlier plate's folder")
    assert [path.name for path in elsewhere.iterdir()] == ["todo.txt"]
    assert (elsewhere / "todo.txt").read_text(encoding="utf-8") == "keep me"


def test_export_writes_the_tiles_and_their_sidecar(make_dialog, qtbot, tmp_path):
    dialog = make_dialog()
    with_file_source(qtbot, dialog, smooth_panorama(tmp_path / "pano.png"))
    fmt(dialog, "tiff")
    out = tmp_path / "stage" / "plate"
    out.parent.mkdir()
    dialog.path_edit.setText(str(out))
    with qtbot.waitSignal(dialog.runner.ended, timeout=60_000):
        assert dialog.start_export()
    assert dialog.message_label.text().startswith(f"Wrote 8 tiles of the 1,900 × 100 px canvas, and plate.json, into {out}")
    sidecar = json.loads((out / "plate.json").read_text(encoding="utf-8"))
    assert sidecar["canvas"] == {"width": 1900, "height": 100} and len(sidecar["tiles"]) == 8
    canvas = np.zeros((100, 1900, 3), np.uint16)
    for tile in sidecar["tiles"]:
        pixels = tifffile.imread(out / tile["file"])
        assert pixels.shape == (tile["height"], tile["width"], 3) and pixels.dtype == np.uint16
        canvas[tile["y"]:tile["y"] + tile["height"], tile["x"]:tile["x"] + tile["width"]] = pixels
    # The plate is what the preview showed, at full size.
    preview = dialog.preview.preview.pixels.astype(np.float32)
    reduced = Image.fromarray((canvas >> 8).astype(np.uint8)).resize(preview.shape[1::-1], Image.Resampling.BOX)
    assert np.abs(np.asarray(reduced, np.float32) - preview).mean() < 6


def test_cancel_leaves_no_folder(make_dialog, qtbot, tmp_path, state):
    reached = threading.Event()

    def held(request, progress, cancelled):
        def tile_written(done, total):
            progress(done, total)
            if done == total - 7:  # the first of the 8 tiles is in the hidden folder
                reached.set()
                for _ in range(1000):
                    if cancelled():
                        break
                    threading.Event().wait(0.01)

        return export_plate(request, tile_written, cancelled)

    dialog = make_dialog(held)
    with_file_source(qtbot, dialog, smooth_panorama(tmp_path / "pano.png"))
    assert dialog.start_export()
    assert not dialog.export_button.isEnabled() and dialog.cancel_button.isEnabled()
    assert not dialog.format_combo.isEnabled()
    qtbot.waitUntil(reached.is_set, timeout=20_000)
    with qtbot.waitSignal(dialog.runner.ended, timeout=20_000):
        dialog.cancel_button.click()
    assert dialog.message_label.text() == "Export cancelled; nothing was written."
    exports = state.folder.exports_dir
    assert not (exports / "plate").exists()
    assert [path.name for path in exports.iterdir()] == []  # no hidden half-written folder either
    assert dialog.export_button.isEnabled() and dialog.format_combo.isEnabled()


def test_the_export_menu_opens_the_plate_dialog(make_main_window, drafted, qtbot):
    window = make_main_window(drafted.path)
    exports = window.workspace.exports
    assert exports.plate_action in window.export_menu.actions()
    assert exports.plate_action.text() == "LED-wall &Plate…"
    exports.plate_action.trigger()
    dialog = exports.plate_dialog
    assert isinstance(dialog, PlateDialog) and dialog.isVisible()
    assert dialog.output_path() == drafted.exports_dir / "plate"
    assert exports.show_plate_dialog() is dialog  # one dialog a project, shown again
    closed = []
    dialog.finished.connect(closed.append)
    assert window.close_project()
    assert closed == [0]  # closed (rejected) with its project…
    assert not shiboken6.isValid(dialog) and exports.plate_dialog is None  # …and deleted, not kept hidden


def test_closing_the_dialog_while_its_preview_computes_drops_it(make_dialog, qtbot, tmp_path):
    previewing, release = threading.Event(), threading.Event()
    calls = []

    def held_previewer(*args):
        calls.append(args)
        previewing.set()
        release.wait(10)
        return preview_plate(*args)

    dialog = make_dialog(previewer=held_previewer)
    with_file_source_started(dialog, smooth_panorama(tmp_path / "pano.png"))
    qtbot.waitUntil(previewing.is_set, timeout=20_000)
    dialog.close()
    assert dialog.source.picture() is None  # a file can be read again: not held while hidden
    release.set()
    qtbot.waitUntil(lambda: not dialog.preview._previews.is_busy(), timeout=10_000)
    assert dialog.preview.image is None and dialog.preview.preview is None  # computed, never shown
    dialog.show()  # read and previewed again
    qtbot.waitUntil(dialog.preview_ready, timeout=20_000)
    assert dialog.preview.image is not None and len(calls) == 2


# -- sources: reading, projection, memory --------------------------------------------------


def test_a_picture_that_cannot_be_read_says_why(make_dialog, qtbot, tmp_path, monkeypatch):
    dialog = make_dialog()
    bad = tmp_path / "pano.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n" + b"not a picture" * 10)
    with_file_source_started(dialog, bad)
    qtbot.waitUntil(lambda: not dialog.source.is_busy(), timeout=10_000)
    assert dialog.source.info_label.text().startswith("cannot read the plate source pano.png")
    assert dialog.source.info_label.error and "color: #d04040" in dialog.source.info_label.styleSheet()
    assert dialog.source.picture() is None and not dialog.export_button.isEnabled()
    assert dialog.preview.caption_label.text() == "Choose a source to see the plate"

    dialog.source.load_file(tmp_path / "missing.png")
    qtbot.waitUntil(lambda: not dialog.source.is_busy(), timeout=10_000)
    assert dialog.source.info_label.text() == f"the plate source {tmp_path / 'missing.png'} does not exist"

    def no_memory(path):
        raise MemoryError()

    def no_words(path):
        raise RuntimeError()

    smooth_panorama(tmp_path / "big.png")
    monkeypatch.setattr(plate_source, "source_pixels", no_memory)
    dialog.source.load_file(tmp_path / "big.png")
    qtbot.waitUntil(lambda: not dialog.source.is_busy(), timeout=10_000)
    assert dialog.source.info_label.text() == "not enough memory to read big.png (512 × 256 px)"
    monkeypatch.setattr(plate_source, "source_pixels", no_words)
    dialog.source.load_file(tmp_path / "pano.png")
    qtbot.waitUntil(lambda: not dialog.source.is_busy(), timeout=10_000)
    assert dialog.source.info_label.text() == "RuntimeError"  # never a blank message


def test_a_16_bit_picture_is_held_in_16_bits(make_dialog, qtbot, tmp_path):
    ramp = (np.linspace(0, 65535, 400)[None, :, None] * np.ones((100, 1, 3))).astype(np.uint16)
    tifffile.imwrite(tmp_path / "wide.tif", ramp, photometric="rgb")
    dialog = make_dialog()
    with_file_source(qtbot, dialog, tmp_path / "wide.tif")
    picture = dialog.source.picture()
    assert picture.pixels.dtype == np.uint16 and np.array_equal(picture.pixels, ramp)  # no float copy
    assert dialog.source.kind() == "wide" and dialog.preview.preview.pixels.std() > 10


def test_the_projection_is_kept_for_each_picture(make_dialog, qtbot, state, tmp_path):
    _shot, take_id = add_take(state, np.full((90, 160, 3), 128, np.uint8))
    dialog = make_dialog()
    source = dialog.source
    with_file_source(qtbot, dialog, smooth_panorama(tmp_path / "pano.png"))
    assert source.kind() == "equirect" and source.kind_combo.currentData() == "equirect"  # 2:1, guessed

    source.set_mode("take")
    assert source.picture() is None  # the file is let go: one full-size picture at a time
    qtbot.waitUntil(lambda: source.take_combo.findData(take_id) >= 0, timeout=10_000)
    source.choose_take(take_id)
    qtbot.waitUntil(dialog.preview_ready, timeout=20_000)
    assert source.kind() == "wide" and source.kind_combo.currentData() == "wide"  # 16:9 is no panorama
    assert dialog.request().kind == "wide"

    source.set_mode("file")  # read again, and its guess with it
    assert dialog.preview.caption_label.text() == UPDATING and not dialog.preview.picture_label.isEnabled()
    qtbot.waitUntil(dialog.preview_ready, timeout=20_000)
    assert source.kind() == "equirect" and source.kind_combo.currentData() == "equirect"
    source.set_kind("wide")  # the user knows better for this picture
    qtbot.waitUntil(dialog.preview_ready, timeout=20_000)
    assert dialog.preview.inputs.kind == "wide"
    source.set_mode("take")
    source.set_mode("file")
    qtbot.waitUntil(dialog.preview_ready, timeout=20_000)
    assert source.kind() == "wide" and source.kind_combo.currentData() == "wide"

    smooth_panorama(tmp_path / "other.png")
    source.load_file(tmp_path / "other.png")  # another 2:1 picture: guessed afresh
    qtbot.waitUntil(dialog.preview_ready, timeout=20_000)
    assert source.kind() == "equirect"
    source.set_mode("generate")
    assert source.kind() == "wide" and not source.kind_combo.isEnabled()


def test_the_preview_says_it_is_updating(make_dialog, qtbot, tmp_path):
    dialog = make_dialog()
    with_file_source(qtbot, dialog, smooth_panorama(tmp_path / "pano.png"))
    assert dialog.preview.caption_label.text().startswith("Preview at ") and dialog.preview.picture_label.isEnabled()
    dialog.lowpass_spin.setValue(2)
    assert dialog.preview.caption_label.text() == UPDATING and not dialog.preview.picture_label.isEnabled()
    qtbot.waitUntil(dialog.preview_ready, timeout=20_000)
    assert dialog.preview.caption_label.text().startswith("Preview at ") and dialog.preview.picture_label.isEnabled()


def test_the_catalog_is_not_read_while_the_dialog_is_hidden(make_dialog, qtbot, state):
    dialog = make_dialog()
    qtbot.waitUntil(lambda: dialog.source.catalog.loaded, timeout=10_000)
    dialog.hide()
    with qtbot.assertNotEmitted(dialog.source.catalog.catalog_changed, wait=600):
        _shot, take_id = add_take(state, np.full((90, 160, 3), 60, np.uint8))
    assert dialog.source.take_combo.findData(take_id) < 0
    with qtbot.waitSignal(dialog.source.catalog.catalog_changed, timeout=10_000):
        dialog.show()
    assert dialog.source.take_combo.findData(take_id) >= 0


# -- undo, and the project closing ---------------------------------------------------------


def test_undo_and_redo_from_the_dialog(make_dialog, qtbot, state):
    dialog = make_dialog()
    editor = dialog.wall_editor
    actions = editor.undo_actions
    assert QKeySequence("Ctrl+Z") in actions.undo_action.shortcuts()
    assert QKeySequence("Ctrl+Shift+Z") in actions.redo_action.shortcuts()
    assert editor.save_to_project()
    assert editor.delete_button.text() == "Delete “Ring”" and editor.stored_combo.currentData() == "Ring"
    assert actions.undo_action.text() == f"Undo {state.undo_stack.undoText()}" and actions.undo_action.isEnabled()
    assert editor.delete_from_project()
    assert walls.wall_names(state.db) == [] and "Undo brings it back" in editor.status_label.text()

    def click(action):
        button = next(b for b in dialog.findChildren(QToolButton) if b.defaultAction() is action)
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)

    click(actions.undo_action)
    assert walls.get_wall(state.db, "Ring") == RING and editor.delete_button.text() == "Delete “Ring”"
    click(actions.redo_action)
    assert walls.wall_names(state.db) == [] and not editor.delete_button.isEnabled()

    def press(modifiers):
        qtbot.keyClick(dialog.preview, Qt.Key.Key_Z, modifiers)
        # QTest leaves the application's modifiers pressed after a click: let them go, or
        # the next test's clicks would be Ctrl- and Shift-clicks.
        for key in (Qt.Key.Key_Shift, Qt.Key.Key_Control):
            qtbot.keyRelease(dialog.preview, key)

    dialog.activateWindow()  # and from the keyboard, wherever the focus is in the dialog
    qtbot.waitUntil(dialog.isActiveWindow)
    press(Qt.KeyboardModifier.ControlModifier)
    assert walls.wall_names(state.db) == ["Ring"]
    press(Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert walls.wall_names(state.db) == []


def test_closing_the_export_actions_stops_a_running_plate_export(state, services, thumbnails, qtbot, tmp_path):
    started, returned = threading.Event(), threading.Event()

    def held(db, media, request, progress=None, cancelled=None):
        started.set()
        try:
            while not cancelled():
                progress(1, 4)
                threading.Event().wait(0.005)
            raise Cancelled()
        finally:
            returned.set()

    window = QMainWindow()
    actions = ExportActions(state, services, window, thumbnails=thumbnails, plate=held)
    dialog = actions.show_plate_dialog()
    dialog.wall_editor.set_profile(RING)
    with_file_source(qtbot, dialog, smooth_panorama(tmp_path / "pano.png"))
    assert dialog.start_export()
    qtbot.waitUntil(started.is_set, timeout=10_000)
    assert actions.close(10_000)
    assert returned.is_set() and not actions.plate_runner.is_running()
    assert not (state.folder.exports_dir / "plate").exists()
    qtbot.waitUntil(lambda: not shiboken6.isValid(dialog), timeout=5_000)
    window.close()
    window.deleteLater()
