"""What the plate dialog's tests share: shown dialogs over the test project on the ring
wall below (the fixture `make_dialog`; a test module imports `make_dialog_fixture` to
use it), test pictures and takes, choosing a source and a format as a user does, and an
engine whose environment runs until cancelled."""

import io
import threading
from dataclasses import replace

import numpy as np
import pytest
from PIL import Image

from previz_app.domain.vocabulary import TakeKind
from previz_app.domain.wall import Cabinet, WallProfile, WallSection
from previz_app.export.plate import export_plate
from previz_app.export.plate_preview import preview_plate
from previz_app.store import shots
from previz_app.ui.export_runner import ExportRunner
from previz_app.ui.plate_dialog import FORMAT_ROLE, PlateDialog, plate_export_function

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


def new_dialog(state, services, export=export_plate, engines=None, previewer=preview_plate):
    runner = ExportRunner(state.folder, plate_export_function(export))
    dialog = PlateDialog(state, runner, services=replace(services, engines=engines) if engines else services,
                         previewer=previewer)
    dialog.wall_editor.set_profile(RING)
    dialog.show()
    return dialog, runner


@pytest.fixture(name="make_dialog")
def make_dialog_fixture(state, services, qtbot):
    """A factory of shown dialogs; each is stopped (its work waited for), then closed
    and deleted, after the test (not by qtbot, which would delete it mid-wait)."""
    made = []

    def make(export=export_plate, engines=None, previewer=preview_plate):
        dialog, runner = new_dialog(state, services, export, engines, previewer)
        made.append((dialog, runner))
        return dialog

    yield make
    for dialog, runner in made:
        assert runner.cancel_and_wait(10_000)
        assert dialog.stop(10_000)
        dialog.close()
        dialog.deleteLater()
    qtbot.wait(10)


def fmt(dialog, key):
    """Choose the format `key` in the dialog's format box."""
    dialog.format_combo.setCurrentIndex(dialog.format_combo.findData(key, FORMAT_ROLE))


def add_take(state, frame):
    data = io.BytesIO()
    Image.fromarray(frame).save(data, format="PNG")
    shot = shots.list_shots(state.db)[0]
    return shot, state.record_take(shot.id, TakeKind.imported, state.folder.media.put(data.getvalue()), len(data.getvalue()))


def with_file_source(qtbot, dialog, path):
    dialog.source.set_mode("file")
    dialog.source.load_file(path)
    qtbot.waitUntil(dialog.preview_ready, timeout=20_000)


def with_file_source_started(dialog, path):
    dialog.source.set_mode("file")
    dialog.source.load_file(path)


class EndlessEnvironment:
    """An engine whose environment never finishes: it reports progress until cancelled."""

    name = "blocking"

    def __init__(self):
        self.started, self.returned = threading.Event(), threading.Event()
        self.calls = 0

    def environment(self, request, context):
        self.calls += 1
        self.started.set()
        try:
            for step in range(100_000):
                context.check_cancelled()
                context.on_progress(step % 10, 10)
                threading.Event().wait(0.005)
            raise AssertionError("never cancelled")
        finally:
            self.returned.set()
