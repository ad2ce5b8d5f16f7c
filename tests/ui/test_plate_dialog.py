"""The LED-wall plate dialog: a wall that cannot be is refused before export, the
source (a file, a take, a generated environment) is read or made off the GUI thread,
the preview shows the plate with its tiles outlined, and Export writes the tiles and
their sidecar (or, cancelled, nothing)."""

import io
import json
import threading
from dataclasses import replace

import numpy as np
import pytest
import shiboken6
import tifffile
from PIL import Image

from previz_app.domain.vocabulary import TakeKind
from previz_app.domain.wall import Cabinet, WallProfile, WallSection, wall_canvas
from previz_app.engine.engines import make_engines
from previz_app.export.plate import export_plate
from previz_app.export.plate_preview import draw_tile_bounds
from previz_app.export.plate_projection import wide_source_size
from previz_app.export.plate_tiles import plan_tiles
from previz_app.store import shots
from previz_app.ui.export_runner import ExportRunner
from previz_app.ui.images import pil_from_qimage
from previz_app.ui.plate_dialog import PlateDialog, plate_export_function

# A 360° ring of 50 px cabinets (500 mm at 10 mm): 38 columns × 2 rows, 1,900 × 100 px;
# an output drives 10 cabinets (5 columns of 2), so the plate comes in 8 tiles.
RING = WallProfile("Ring", (WallSection("curved", Cabinet(500, 500, 10.0), 1.0, radius_m=3.0, arc_deg=360),),
                   output_capacity=25_000)


def smooth_panorama(path, width=512, height=256):
    """A smooth equirect test picture: hue round the longitude, light down the latitude."""
    x = np.linspace(0, 2 * np.pi, width, endpoint=False)[None, :]
    y = np.linspace(0, 1, height)[:, None]
    rgb = np.stack([0.5 + 0.4 * np.cos(x) * (1 - y), 0.5 + 0.4 * np.sin(x) + 0 * y, 0.2 + 0.6 * y + 0 * x], axis=2)
    Image.fromarray(np.round(rgb * 255).astype(np.uint8)).save(path)
    return path


@pytest.fixture
def make_dialog(state, services, qtbot):
    made = []

    def make(export=export_plate, engines=None):
        runner = ExportRunner(state.folder, plate_export_function(export))
        dialog = PlateDialog(state, runner, services=replace(services, engines=engines) if engines else services)
        made.append((dialog, runner))
        qtbot.addWidget(dialog)
        dialog.wall_editor.set_profile(RING)
        dialog.show()
        return dialog

    yield make
    for dialog, runner in made:
        assert runner.cancel_and_wait(10_000)
        assert dialog.stop(10_000)


def with_file_source(qtbot, dialog, path):
    dialog.source.set_mode("file")
    dialog.source.load_file(path)
    qtbot.waitUntil(dialog.preview_ready, timeout=20_000)


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
    data = io.BytesIO()
    Image.fromarray(frame).save(data, format="PNG")
    shot = shots.list_shots(state.db)[0]
    take_id = state.record_take(shot.id, TakeKind.imported, state.folder.media.put(data.getvalue()), len(data.getvalue()))
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
    dialog.format_combo.setCurrentIndex(dialog.format_combo.findData("png8"))
    assert dialog.dither_check.isVisibleTo(dialog) and not dialog.seconds_spin.isVisibleTo(dialog)
    dialog.dither_check.setChecked(False)
    dialog.lowpass_spin.setValue(1.5)
    dialog.path_edit.setText("stage_b")
    request = dialog.request()
    assert (request.format, request.dither, request.lowpass) == ("png8", False, 1.5)
    assert request.out == dialog.state.folder.exports_dir / "stage_b" and not request.save_source
    dialog.format_combo.setCurrentIndex(dialog.format_combo.findData("prores"))
    assert dialog.seconds_spin.isVisibleTo(dialog) and not dialog.dither_check.isVisibleTo(dialog)
    dialog.seconds_spin.setValue(4)
    assert (dialog.request().format, dialog.request().seconds) == ("prores", 4)
    elsewhere = tmp_path / "notes"  # exporting replaces the folder: not one holding other files
    elsewhere.mkdir()
    (elsewhere / "todo.txt").write_text("keep me", encoding="utf-8")
    dialog.path_edit.setText(str(elsewhere))
    assert not dialog.start_export() and not dialog.runner.is_running()
    assert "holds other files" in dialog.message_label.text()
    assert (elsewhere / "todo.txt").read_text(encoding="utf-8") == "keep me"


def test_export_writes_the_tiles_and_their_sidecar(make_dialog, qtbot, tmp_path):
    dialog = make_dialog()
    with_file_source(qtbot, dialog, smooth_panorama(tmp_path / "pano.png"))
    dialog.format_combo.setCurrentIndex(dialog.format_combo.findData("tiff"))
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


def test_the_blocking_engine_generates_the_source(make_dialog, qtbot, state):
    dialog = make_dialog(engines=lambda choice: make_engines(("blocking",)))
    dialog.source.set_mode("generate")
    assert dialog.source.generator.engine_combo.currentData() == "blocking"
    assert not dialog.source.generator.upscale_check.isEnabled()
    assert dialog.source.picture() is None and not dialog.export_button.isEnabled()
    assert dialog.source.generator.generate()
    assert dialog.source.generator.is_generating() and dialog.source.generator.cancel_button.isEnabled()
    qtbot.waitUntil(lambda: not dialog.source.generator.is_generating(), timeout=60_000)
    picture = dialog.source.picture()
    assert picture is not None and picture.generated, dialog.source.info_label.text()
    assert picture.pixels.dtype == np.uint8 and picture.pixels.shape == wide_source_size(RING)[::-1] + (3,)
    assert picture.pixels.std() > 5  # a painted environment, not a flat fill
    assert dialog.source.kind() == "wide" and dialog.source.generator.progress_bar.value() == dialog.source.generator.progress_bar.maximum()
    qtbot.waitUntil(dialog.preview_ready, timeout=20_000)
    request = dialog.request()
    assert request.source is picture.pixels and request.save_source and request.kind == "wide"


class EndlessEnvironment:
    """An engine whose environment never finishes: it reports progress until cancelled."""

    name = "blocking"

    def __init__(self):
        self.started = threading.Event()

    def environment(self, request, context):
        self.started.set()
        for step in range(100_000):
            context.check_cancelled()
            context.on_progress(step % 10, 10)
            threading.Event().wait(0.005)
        raise AssertionError("never cancelled")


def test_a_generation_can_be_cancelled(make_dialog, qtbot):
    engine = EndlessEnvironment()
    dialog = make_dialog(engines=lambda choice: {"blocking": engine})
    dialog.source.set_mode("generate")
    assert dialog.source.generator.generate()
    assert not dialog.source.generator.generate()  # one at a time
    qtbot.waitUntil(lambda: dialog.source.generator.progress_bar.maximum() == 10, timeout=10_000)
    dialog.source.generator.cancel_button.click()
    qtbot.waitUntil(lambda: not dialog.source.generator.is_generating(), timeout=10_000)
    assert dialog.source.info_label.text() == "Generation cancelled."
    assert dialog.source.picture() is None and not dialog.export_button.isEnabled()
    assert dialog.source.generator.generate_button.isEnabled() and not dialog.source.generator.cancel_button.isEnabled()


def test_the_export_menu_opens_the_plate_dialog(make_main_window, drafted):
    window = make_main_window(drafted.path)
    exports = window.workspace.exports
    assert exports.plate_action in window.export_menu.actions()
    assert exports.plate_action.text() == "LED-wall &Plate…"
    exports.plate_action.trigger()
    dialog = exports.plate_dialog
    assert isinstance(dialog, PlateDialog) and dialog.isVisible()
    assert dialog.output_path() == drafted.exports_dir / "plate"
    assert window.close_project()
    assert not shiboken6.isValid(dialog) or not dialog.isVisible()  # closed with its project
