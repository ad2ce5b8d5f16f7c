"""The engine settings dialog: what OK keeps, what it refuses, what Cancel leaves
alone, the style preset as an undoable project edit, and scans of model folders."""

import threading

import pytest
from PySide6.QtWidgets import QApplication, QDialog

from previz_app.engine.discovery.library import ModelLibrary
from previz_app.ui.engine_settings import EngineSettingsDialog
from previz_app.ui.services import EngineSettings
from tests.engine.discovery.keys import KOHYA_LORA_SD1, SD1_CHECKPOINT, VAE_ORIGINAL, write_model


@pytest.fixture
def make_dialog(services, qtbot):
    def make(state=None):
        dialog = EngineSettingsDialog(services, state)
        qtbot.addWidget(dialog)
        dialog.open()
        return dialog

    return make


@pytest.fixture
def models(tmp_path):
    """A ComfyUI models folder with a checkpoint, a LoRA and a VAE: only the first is a
    model one can choose."""
    folder = tmp_path / "ComfyUI-models"
    checkpoint = write_model(folder / "checkpoints" / "dreamy-v1.safetensors", SD1_CHECKPOINT)
    write_model(folder / "loras" / "ink-style.safetensors", KOHYA_LORA_SD1)
    write_model(folder / "vae" / "sharp-vae.safetensors", VAE_ORIGINAL)
    return folder, checkpoint


def saved(services) -> EngineSettings:
    return EngineSettings.load(services.settings)


def picker(dialog) -> dict[str, str]:
    combo = dialog.model_combo
    return {combo.itemText(i): combo.itemData(i) for i in range(combo.count())}


def test_the_defaults_are_the_blocking_engine_offline_and_pickle_free(make_dialog):
    dialog = make_dialog()
    assert dialog.choice() == EngineSettings()
    assert dialog.engine_combo.currentText() == "Built-in blocking (no model)"
    assert not dialog.network_check.isChecked() and not dialog.pickle_check.isChecked()
    assert not dialog.model_combo.isEnabled() and not dialog.steps_spin.isEnabled()
    assert not dialog.style_combo.isEnabled()  # no project open


def test_model_widgets_follow_the_engine(make_dialog):
    dialog = make_dialog()
    dialog.engine_combo.setCurrentIndex(dialog.engine_combo.findData("diffusers"))
    assert dialog.model_combo.isEnabled() and dialog.scan_button.isEnabled() and dialog.pickle_check.isEnabled()
    dialog.engine_combo.setCurrentIndex(dialog.engine_combo.findData("blocking"))
    assert not dialog.model_combo.isEnabled() and not dialog.scan_button.isEnabled()
    assert dialog.variations_spin.isEnabled()


def test_ok_keeps_the_choice_and_says_so(make_dialog, services, qtbot):
    dialog = make_dialog()
    dialog.engine_combo.setCurrentIndex(dialog.engine_combo.findData("diffusers"))
    dialog.model_combo.setEditText("someone/some-model")
    dialog.steps_spin.setValue(12)
    dialog.guidance_spin.setValue(4.5)
    dialog.device_combo.setCurrentIndex(dialog.device_combo.findData("cpu"))
    dialog.network_check.setChecked(True)
    with qtbot.waitSignal(dialog.settings_changed) as changed:
        dialog.accept()
    expected = EngineSettings(
        engine="diffusers", model="someone/some-model", device="cpu", steps=12, guidance=4.5, allow_network=True
    )
    assert changed.args == [expected]
    assert saved(services) == expected
    assert dialog.result() == QDialog.DialogCode.Accepted and not dialog.isVisible()
    assert make_dialog().choice() == expected  # and the next dialog starts from it


def test_the_diffusion_engine_without_a_model_is_refused_and_nothing_is_kept(make_dialog, services, qtbot):
    dialog = make_dialog()
    dialog.engine_combo.setCurrentIndex(dialog.engine_combo.findData("diffusers"))
    dialog.steps_spin.setValue(40)
    with qtbot.assertNotEmitted(dialog.settings_changed):
        dialog.accept()
    assert "Choose a model" in dialog.message_label.text() and not dialog.message_label.isHidden()
    assert dialog.isVisible()
    assert services.settings.value("engine/engine") is None and saved(services) == EngineSettings()


def test_a_model_path_that_does_not_exist_is_refused(make_dialog, services, tmp_path):
    dialog = make_dialog()
    dialog.engine_combo.setCurrentIndex(dialog.engine_combo.findData("diffusers"))
    dialog.model_combo.setEditText(str(tmp_path / "nowhere.safetensors"))
    dialog.accept()
    assert "nowhere.safetensors does not exist" in dialog.message_label.text()
    assert dialog.isVisible() and saved(services) == EngineSettings()


def test_cancel_keeps_nothing(make_dialog, services, qtbot):
    dialog = make_dialog()
    dialog.engine_combo.setCurrentIndex(dialog.engine_combo.findData("diffusers"))
    dialog.model_combo.setEditText("someone/some-model")
    dialog.pickle_check.setChecked(True)
    with qtbot.assertNotEmitted(dialog.settings_changed):
        dialog.reject()
    assert services.settings.allKeys() == [] and saved(services) == EngineSettings()


def test_a_new_style_preset_is_an_undoable_project_edit(make_dialog, state):
    assert state.project().style_preset == "storyboard_pencil"
    dialog = make_dialog(state)
    assert dialog.style_combo.currentData() == "storyboard_pencil"
    dialog.style_combo.setCurrentIndex(dialog.style_combo.findData("cinematic"))
    dialog.accept()
    assert state.project().style_preset == "cinematic"
    assert state.undo_stack.count() == 1
    state.undo_stack.undo()
    assert state.project().style_preset == "storyboard_pencil"


def test_an_unchanged_style_preset_makes_no_edit(make_dialog, state, services):
    make_dialog(state).accept()
    assert state.undo_stack.count() == 0
    assert saved(services) == EngineSettings() and services.settings.value("engine/engine") == "blocking"


def test_a_scanned_folder_offers_its_checkpoints_only(make_dialog, services, models, qtbot):
    folder, checkpoint = models
    dialog = make_dialog()
    assert picker(dialog) == {}
    dialog.engine_combo.setCurrentIndex(dialog.engine_combo.findData("diffusers"))
    assert dialog.add_folder(folder)
    assert dialog.is_scanning() and dialog.scan_progress.isVisibleTo(dialog)
    qtbot.waitUntil(lambda: not dialog.is_scanning())
    assert dialog.scan_status.text() == "Found 3 model files; 1 can be chosen as the model"
    offered = picker(dialog)
    assert list(offered.values()) == [str(checkpoint)]
    label = next(iter(offered))
    assert label.startswith("dreamy-v1 · sd1 · ") and label.endswith(" KB")
    assert dialog.folders_list.item(0).text() == str(folder)
    assert services.library().added_folders() == [folder]

    dialog.model_combo.setCurrentIndex(0)
    dialog.accept()
    assert saved(services).model == str(checkpoint)
    reopened = make_dialog()  # the last scan is remembered
    assert list(picker(reopened).values()) == [str(checkpoint)] and reopened.model() == str(checkpoint)


def test_removing_a_folder_forgets_it_and_its_models(make_dialog, services, models, qtbot):
    folder, checkpoint = models
    dialog = make_dialog()
    dialog.add_folder(folder)
    qtbot.waitUntil(lambda: list(picker(dialog).values()) == [str(checkpoint)])
    dialog.remove_folder(folder)
    qtbot.waitUntil(lambda: not dialog.is_scanning())
    assert picker(dialog) == {} and dialog.folders_list.count() == 0
    assert services.library().added_folders() == [] and services.library().listed() == []


def test_adding_something_that_is_not_a_folder_is_refused(make_dialog, services, tmp_path):
    dialog = make_dialog()
    assert not dialog.add_folder(tmp_path / "missing")
    assert "missing is not a folder" in dialog.message_label.text()
    assert not dialog.is_scanning() and services.library().added_folders() == []


def test_a_failed_scan_is_reported_in_the_dialog(make_dialog, models, monkeypatch, qtbot):
    def failing(self, add=()):
        raise OSError("the drive went away")

    monkeypatch.setattr(ModelLibrary, "scan", failing)
    dialog = make_dialog()
    dialog.scan()
    qtbot.waitUntil(lambda: not dialog.is_scanning())
    assert dialog.message_label.text() == "The scan failed: the drive went away"
    assert not dialog.scan_progress.isVisibleTo(dialog)


def test_a_cancelled_scan_is_not_waited_for(make_dialog, models, monkeypatch, qtbot, services):
    folder, checkpoint = models
    gate, started = threading.Event(), threading.Event()
    real_scan = ModelLibrary.scan

    def held(self, add=()):
        started.set()
        gate.wait(10)
        return real_scan(self, add)

    monkeypatch.setattr(ModelLibrary, "scan", held)
    dialog = make_dialog()
    dialog.add_folder(folder)
    qtbot.waitUntil(started.is_set)
    assert dialog.cancel_scan_button.isVisibleTo(dialog)
    dialog.cancel_scan()
    assert not dialog.is_scanning() and not dialog.scan_progress.isVisibleTo(dialog)
    gate.set()
    services.pool.waitForDone(10_000)
    QApplication.processEvents()  # delivers the late result, posted before the task ended
    assert picker(dialog) == {} and dialog.scan_status.text() == "Scan cancelled"
