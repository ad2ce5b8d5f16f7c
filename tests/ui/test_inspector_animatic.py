"""The inspector's animatic fields and sound: transitions and levels are undoable edits,
sound files are decoded and stored off the GUI thread and then chosen with one undoable
edit, and a file that is not sound changes nothing. The music bed works the same way."""

import hashlib
import threading

import av
import numpy as np
import pytest

from previz_app.domain.vocabulary import TransitionIn, TransitionOut
from previz_app.store import shots
from previz_app.ui import sound
from previz_app.ui.sound import MusicBedDialog
from tests.ui.test_inspector import choose, first_shot




def write_tone(path, seconds=0.25, rate=48000):
    """A mono 440 Hz WAV written with PyAV."""
    with av.open(str(path), "w", format="wav") as out:
        stream = out.add_stream("pcm_s16le", rate=rate, layout="mono")
        t = np.arange(int(seconds * rate)) / rate
        samples = (0.3 * np.sin(2 * np.pi * 440 * t) * 32767).astype(np.int16)[None, :]
        frame = av.AudioFrame.from_ndarray(samples, format="s16", layout="mono")
        frame.sample_rate = rate
        for packet in stream.encode(frame):
            out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return path


def imported(qtbot, widget, path):
    """Import `path` through `widget` and wait until its result is in."""
    task = widget.import_file(path)
    assert task is not None
    with qtbot.waitSignal(task.ended, timeout=10_000):
        pass
    return task


def test_transition_choices_read_as_words(inspector):
    offered = {
        field: [inspector.editors[field].itemText(i) for i in range(inspector.editors[field].count())]
        for field in ("transition_in", "transition_out")
    }
    assert offered == {"transition_in": ["Cut", "Dissolve", "Fade from black"], "transition_out": ["Cut", "Fade to black"]}


def test_transitions_are_undoable_edits_shown_in_their_combos(inspector, state):
    shot = first_shot(state)
    assert (shot.transition_in, shot.transition_out) == (TransitionIn.cut, TransitionOut.cut)
    choose(inspector.editors["transition_in"], "dissolve")
    choose(inspector.editors["transition_out"], "fade_to_black")
    stored = state.shot(shot.id)
    assert (stored.transition_in, stored.transition_out) == (TransitionIn.dissolve, TransitionOut.fade_to_black)
    assert state.undo_stack.count() == 2
    state.undo_stack.undo()
    assert state.shot(shot.id).transition_out is TransitionOut.cut
    assert inspector.editors["transition_out"].currentData() == "cut"
    state.undo_stack.undo()
    assert state.shot(shot.id).transition_in is TransitionIn.cut
    assert inspector.editors["transition_in"].currentData() == "cut"


def test_the_transition_length_is_offered_where_there_is_a_transition_and_undoes(inspector, state):
    shot = first_shot(state)
    length = inspector.editors["transition_seconds"]
    assert not length.isEnabled()  # cut in, cut out: nothing to time
    assert (length.minimum(), length.maximum()) == (0.04, 10.0)
    choose(inspector.editors["transition_in"], "fade_from_black")
    assert length.isEnabled()
    length.setValue(2.5)
    length.editingFinished.emit()
    assert state.shot(shot.id).transition_seconds == 2.5
    state.undo_stack.undo()
    assert state.shot(shot.id).transition_seconds == shot.transition_seconds
    assert length.value() == pytest.approx(shot.transition_seconds)
    length.editingFinished.emit()  # the value it shows is the stored one: no edit
    assert state.undo_stack.index() == 1 and state.undo_stack.canRedo()  # a new edit would drop the redo


def test_a_shot_without_sound_says_none_and_offers_only_import(inspector):
    widget = inspector.sound
    assert widget.name_label.text() == "none"
    assert widget.import_button.isEnabled()
    assert not any(w.isEnabled() for w in (widget.remove_button, widget.level_slider, widget.level_spin))


def test_importing_a_wav_stores_it_off_the_gui_thread_and_chooses_it(inspector, state, qtbot, tmp_path, monkeypatch):
    shot = first_shot(state)
    path = write_tone(tmp_path / "door knock.wav")
    threads = []
    real_import = sound.import_audio

    def recording_import(folder, file):
        threads.append((threading.get_ident(), folder.db is state.db))
        return real_import(folder, file)

    monkeypatch.setattr(sound, "import_audio", recording_import)
    imported(qtbot, inspector.sound, path)

    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert threads == [(threads[0][0], False)] and threads[0][0] != threading.get_ident()
    assert state.shot(shot.id).audio_hash == digest
    assert state.folder.media.path(digest).read_bytes() == path.read_bytes()
    assert state.db["media"].get(digest)["original_name"] == "door knock.wav"
    assert inspector.sound.name_label.text() == "door knock.wav"
    assert inspector.sound.remove_button.isEnabled() and inspector.sound.level_spin.isEnabled()
    assert state.undo_stack.count() == 1
    state.undo_stack.undo()
    assert state.shot(shot.id).audio_hash is None
    assert inspector.sound.name_label.text() == "none"


def test_the_sound_goes_to_the_shot_it_was_chosen_for(inspector, state, qtbot, tmp_path):
    first, second = shots.list_shots(state.db)[:2]
    task = inspector.sound.import_file(write_tone(tmp_path / "line.wav"))
    state.set_current_shot(second.id)  # before the import is in
    with qtbot.waitSignal(task.ended, timeout=10_000):
        pass
    assert state.shot(first.id).audio_hash is not None
    assert state.shot(second.id).audio_hash is None
    assert inspector.sound.name_label.text() == "none"


def test_a_file_that_is_not_sound_is_reported_and_changes_nothing(inspector, state, qtbot, tmp_path):
    shot = first_shot(state)
    broken = tmp_path / "broken.wav"
    broken.write_bytes(b"RIFF\x10\x00\x00\x00WAVEjunk that is not a sound")
    with qtbot.waitSignal(state.error_reported, timeout=10_000) as reported:
        inspector.sound.import_file(broken)
    assert "broken.wav" in reported.args[0] and "not a sound file" in reported.args[0]
    qtbot.waitUntil(lambda: not inspector.sound.is_busy())
    assert state.shot(shot.id) == shot
    assert state.undo_stack.count() == 0
    digest = hashlib.sha256(broken.read_bytes()).hexdigest()
    assert not state.folder.media.path(digest).exists()
    assert state.db["media"].count_where("hash = ?", [digest]) == 0
    assert inspector.sound.import_button.isEnabled()


def test_remove_and_level_are_undoable_edits(inspector, state, qtbot, tmp_path):
    shot = first_shot(state)
    imported(qtbot, inspector.sound, write_tone(tmp_path / "rain.flac.wav"))
    digest = state.shot(shot.id).audio_hash
    widget = inspector.sound

    widget.level_spin.setValue(-6.5)
    widget.level_spin.editingFinished.emit()
    assert state.shot(shot.id).audio_level_db == -6.5
    assert widget.level_slider.value() in (-6, -7)
    widget.level_slider.setValue(-20)  # a key or a click on the track: not a drag
    assert state.shot(shot.id).audio_level_db == -20.0
    assert widget.level_spin.value() == -20.0
    assert (widget.level_spin.minimum(), widget.level_spin.maximum()) == (-60.0, 12.0)

    widget.remove_button.click()
    assert state.shot(shot.id).audio_hash is None
    assert widget.name_label.text() == "none" and not widget.level_spin.isEnabled()
    assert state.undo_stack.count() == 4  # import, two levels, remove
    state.undo_stack.undo()
    assert state.shot(shot.id).audio_hash == digest
    state.undo_stack.undo()
    assert state.shot(shot.id).audio_level_db == -6.5 and widget.level_spin.value() == -6.5
    state.undo_stack.undo()
    assert state.shot(shot.id).audio_level_db == shot.audio_level_db


def test_flush_lands_a_running_import_before_the_project_closes(inspector, state, tmp_path):
    shot = first_shot(state)
    inspector.sound.import_file(write_tone(tmp_path / "late.wav"))
    assert inspector.flush()
    assert state.shot(shot.id).audio_hash is not None  # no event loop turn needed after the flush


def test_no_shot_disables_the_sound_row(inspector, state):
    state.set_current_shot(None)
    widget = inspector.sound
    assert not widget.import_button.isEnabled() and widget.name_label.text() == ""
    assert widget.import_file("/nowhere.wav") is None


def test_the_music_bed_is_imported_levelled_and_removed_with_undo(state, services, qtbot, tmp_path):
    dialog = MusicBedDialog(state, pool=services.pool)
    qtbot.addWidget(dialog)
    widget = dialog.sound
    assert widget.name_label.text() == "none" and widget.import_button.text() == "Choose music…"
    assert widget.level_spin.value() == -12.0  # the project's default music level

    imported(qtbot, widget, write_tone(tmp_path / "theme.wav"))
    digest = state.project().music_hash
    assert digest is not None and state.folder.media.path(digest).is_file()
    assert widget.name_label.text() == "theme.wav"
    widget.level_spin.setValue(-3)
    widget.level_spin.editingFinished.emit()
    assert state.project().music_level_db == -3.0
    widget.remove_button.click()
    assert state.project().music_hash is None and widget.name_label.text() == "none"

    state.undo_stack.undo()
    assert state.project().music_hash == digest and widget.name_label.text() == "theme.wav"
    state.undo_stack.undo()
    assert state.project().music_level_db == -12.0 and widget.level_spin.value() == -12.0
    state.undo_stack.undo()
    assert state.project().music_hash is None
