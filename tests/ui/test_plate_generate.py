"""The plate dialog's Generate page: an environment is painted for the wall off the GUI
thread, on a thread of its own with the engines kept between generations, with progress
and cancel; it is kept with the wall it was made for, goes into the export with its
recipe, and stops when the dialog is closed or deleted."""

import json
import threading

import numpy as np
import pytest
import shiboken6
from PIL import Image

from previz_app.engine.engines import make_engines
from previz_app.export.plate_preview import preview_plate
from previz_app.export.plate_projection import wide_source_size
from previz_app.ui.plate_dialog import OTHER_WALL

from .plate_fixtures import (
    RING,
    EndlessEnvironment,
    fmt,
    make_dialog_fixture,  # noqa: F401 - the fixture make_dialog
    new_dialog,
    smooth_panorama,
    with_file_source_started,
)


def test_the_blocking_engine_generates_the_source(make_dialog, qtbot, state, tmp_path):
    dialog = make_dialog(engines=lambda choice: make_engines(("blocking",)))
    generator = dialog.source.generator
    dialog.source.set_mode("generate")
    assert generator.engine_combo.currentData() == "blocking"
    assert not generator.upscale_check.isEnabled()
    assert dialog.source.picture() is None and not dialog.export_button.isEnabled()
    generator.seed_spin.setValue(7)
    with qtbot.waitSignal(generator.environment_changed, timeout=60_000) as made:
        assert generator.generate()
        assert generator.is_generating() and generator.cancel_button.isEnabled()
    environment = made.args[0]
    picture = dialog.source.picture()
    assert picture is not None and picture.generated and picture.pixels is environment.pixels
    assert picture.pixels.dtype == np.uint8 and picture.pixels.shape == wide_source_size(RING)[::-1] + (3,)
    assert picture.pixels.std() > 5  # a painted environment, not a flat fill
    assert dialog.source.kind() == "wide"
    assert f"Source: blocking environment, seed 7, {picture.pixels.shape[1]:,} × " in dialog.source.info_label.text()
    qtbot.waitUntil(lambda: not generator.is_generating(), timeout=10_000)
    assert generator.generate_button.isEnabled() and not generator.cancel_button.isEnabled()
    qtbot.waitUntil(dialog.preview_ready, timeout=20_000)
    request = dialog.request()
    assert request.source is picture.pixels and request.save_source and request.kind == "wide"
    height, width = picture.pixels.shape[:2]
    assert request.source_recipe["engine"] == "blocking" and request.source_recipe["seed"] == 7
    assert (request.source_recipe["width"], request.source_recipe["height"]) == (width, height)
    # The recipe travels with the saved source, as the export writes it.
    fmt(dialog, "png8")
    dialog.path_edit.setText(str(tmp_path / "generated"))
    with qtbot.waitSignal(dialog.runner.ended, timeout=60_000):
        assert dialog.start_export()
    sidecar = json.loads((tmp_path / "generated" / "plate.json").read_text(encoding="utf-8"))
    assert sidecar["source_recipe"]["seed"] == 7 and sidecar["source_recipe"]["width"] == width
    saved = np.asarray(Image.open(tmp_path / "generated" / sidecar["source"]).convert("RGB"))
    assert np.array_equal(saved, picture.pixels)


def test_an_environment_made_for_another_wall_is_not_exported(make_dialog, qtbot):
    dialog = make_dialog(engines=lambda choice: make_engines(("blocking",)))
    dialog.source.set_mode("generate")
    with qtbot.waitSignal(dialog.source.generator.environment_changed, timeout=60_000):
        assert dialog.source.generator.generate()
    qtbot.waitUntil(dialog.preview_ready, timeout=20_000)
    assert dialog.export_button.isEnabled()

    dialog.wall_editor.cell(0, "arc_deg").setValue(180)  # half the ring: the picture would be squeezed
    assert not dialog.export_button.isEnabled()
    assert dialog.preview.caption_label.text() == OTHER_WALL and not dialog.preview.picture_label.isEnabled()
    assert not dialog.preview_ready()
    with pytest.raises(ValueError, match="made for another wall"):
        dialog.request()
    assert not dialog.start_export() and dialog.message_label.text() == OTHER_WALL

    dialog.wall_editor.cell(0, "arc_deg").setValue(360)  # the wall it was made for
    qtbot.waitUntil(dialog.preview_ready, timeout=20_000)
    assert dialog.export_button.isEnabled() and dialog.preview.picture_label.isEnabled()
    dialog.wall_editor.cell(0, "pitch_mm").setValue(5.0)  # finer pixels, same span and height: only softer
    assert dialog.export_button.isEnabled()
    qtbot.waitUntil(dialog.preview_ready, timeout=20_000)
    assert "px/°" in dialog.preview.warning_label.text()


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


def test_generations_keep_their_engines_and_run_off_the_shared_pool(make_dialog, qtbot, services):
    built = []

    def engines(choice):
        built.append(choice.engine)
        return make_engines(("blocking",))

    dialog = make_dialog(engines=engines)
    generator = dialog.source.generator
    dialog.source.set_mode("generate")
    for seed in (1, 2):
        generator.seed_spin.setValue(seed)
        with qtbot.waitSignal(generator.environment_changed, timeout=60_000):
            assert generator.generate()
    assert built == ["blocking"] and generator.engines.builds == 1  # built once, not once a click
    assert generator.engines.pool is not services.pool and generator.engines.pool.maxThreadCount() == 1
    dialog.hide()  # closing the dialog lets the engines go; the next generation builds them again
    dialog.show()
    with qtbot.waitSignal(generator.environment_changed, timeout=60_000):
        assert generator.generate()
    assert built == ["blocking", "blocking"]


def test_a_cancel_while_the_engines_load_stops_before_the_work(make_dialog, qtbot):
    loading, loaded = threading.Event(), threading.Event()
    engine = EndlessEnvironment()

    def slow_engines(choice):
        loading.set()
        loaded.wait(10)  # a model loading: nothing to poll meanwhile
        return {"blocking": engine}

    dialog = make_dialog(engines=slow_engines)
    dialog.source.set_mode("generate")
    assert dialog.source.generator.generate()
    qtbot.waitUntil(loading.is_set, timeout=10_000)
    dialog.source.generator.cancel_button.click()
    loaded.set()
    qtbot.waitUntil(lambda: not dialog.source.generator.is_generating(), timeout=10_000)
    assert engine.calls == 0  # the environment was never begun
    assert dialog.source.info_label.text() == "Generation cancelled." and not dialog.source.info_label.error


def test_closing_the_dialog_stops_its_generation(make_dialog, qtbot):
    engine = EndlessEnvironment()
    dialog = make_dialog(engines=lambda choice: {"blocking": engine})
    dialog.source.set_mode("generate")
    assert dialog.source.generator.generate()
    qtbot.waitUntil(engine.started.is_set, timeout=10_000)
    dialog.close()
    qtbot.waitUntil(engine.returned.is_set, timeout=10_000)
    qtbot.waitUntil(lambda: not dialog.source.generator.is_generating(), timeout=10_000)
    assert dialog.source.info_label.text() == "Generation cancelled." and dialog.source.picture() is None


def test_deleting_the_dialog_stops_its_generation_and_preview(state, services, qtbot, tmp_path):
    engine = EndlessEnvironment()
    # The previewer is held until released: the preview is mid-way when the dialog goes.
    previewing, release, previewed = threading.Event(), threading.Event(), []

    def held_previewer(*args):
        previewing.set()
        release.wait(10)
        previewed.append(args)
        return preview_plate(*args)

    dialog, runner = new_dialog(state, services, engines=lambda choice: {"blocking": engine}, previewer=held_previewer)
    with_file_source_started(dialog, smooth_panorama(tmp_path / "pano.png"))
    qtbot.waitUntil(previewing.is_set, timeout=20_000)
    dialog.source.set_mode("generate")
    assert dialog.source.generator.generate()
    qtbot.waitUntil(engine.started.is_set, timeout=10_000)
    dialog.deleteLater()
    qtbot.waitUntil(lambda: not shiboken6.isValid(dialog), timeout=5_000)
    qtbot.waitUntil(engine.returned.is_set, timeout=10_000)  # the generation stopped with it
    release.set()
    qtbot.waitUntil(lambda: bool(previewed), timeout=10_000)
    assert services.pool.waitForDone(10_000)
    qtbot.wait(50)  # what the tasks had queued for the dialog arrives, and finds it gone
    assert runner.cancel_and_wait(1_000)
