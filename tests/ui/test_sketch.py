"""Sketching: strokes by mouse and tablet land in the right layer, undo per stroke,
and a sketch is kept as a drawn take that can be re-edited and sent to refine."""

import io
import json
import threading
import time

import pytest
from PIL import Image
from PySide6.QtCore import QEvent, QPointF, QSize, Qt
from PySide6.QtGui import QColor, QImage, QInputDevice, QMouseEvent, QPointingDevice, QTabletEvent
from PySide6.QtWidgets import QApplication, QMessageBox

from previz_app.domain.vocabulary import TakeKind
from previz_app.store import shots, takes
from previz_app.store.errors import MediaWriteError
from previz_app.ui import sketch_dialog
from previz_app.ui.images import pil_from_qimage
from previz_app.ui.sketch import SketchCanvas
from previz_app.ui.sketch_dialog import SketchDialog

RED = QColor(200, 30, 30)
SKY = (30, 120, 200)


@pytest.fixture
def canvas(qtbot):
    made = SketchCanvas(QSize(200, 100))
    qtbot.addWidget(made)
    made.resize(420, 220)  # scaled by two, with a margin: positions must be mapped
    made.show()
    qtbot.waitExposed(made)
    return made


def send_mouse(widget, kind, image_point, buttons):
    pos = widget.map_from_image(QPointF(*image_point))
    button = Qt.MouseButton.LeftButton
    event = QMouseEvent(kind, pos, widget.mapToGlobal(pos), button, buttons, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, event)


def drag(canvas, points):
    """A left-button mouse stroke through image points."""
    held, none = Qt.MouseButton.LeftButton, Qt.MouseButton.NoButton
    send_mouse(canvas, QEvent.Type.MouseButtonPress, points[0], held)
    for point in points[1:]:
        send_mouse(canvas, QEvent.Type.MouseMove, point, held)
    send_mouse(canvas, QEvent.Type.MouseButtonRelease, points[-1], none)


def line(y, x0=20, x1=180, steps=8):
    return [(x0 + (x1 - x0) * i / steps, y) for i in range(steps + 1)]


def tablet_stroke(canvas, points, pressure):
    device = QPointingDevice(
        "test stylus", 7, QInputDevice.DeviceType.Stylus, QPointingDevice.PointerType.Pen,
        QInputDevice.Capability.Position | QInputDevice.Capability.Pressure, 1, 2,
    )
    kinds = [QEvent.Type.TabletPress] + [QEvent.Type.TabletMove] * (len(points) - 2) + [QEvent.Type.TabletRelease]
    accepted = []
    for kind, point in zip(kinds, points):
        pos = canvas.map_from_image(QPointF(*point))
        held = Qt.MouseButton.NoButton if kind == QEvent.Type.TabletRelease else Qt.MouseButton.LeftButton
        event = QTabletEvent(kind, device, pos, canvas.mapToGlobal(pos), pressure, 0, 0, 0, 0, 0,
                             Qt.KeyboardModifier.NoModifier, Qt.MouseButton.LeftButton, held)
        QApplication.sendEvent(canvas, event)
        accepted.append(event.isAccepted())
    return accepted


def rgba(image: QImage, x, y):
    color = image.pixelColor(x, y)
    return color.red(), color.green(), color.blue(), color.alpha()


def test_a_mouse_stroke_inks_the_layer_and_undo_restores_it_exactly(canvas):
    canvas.set_color(RED)
    canvas.set_pen_width(6)
    blank = canvas.layer("ink")
    drag(canvas, line(50))
    ink = canvas.layer("ink")
    for x in (25, 60, 100, 175):
        assert rgba(ink, x, 50) == (200, 30, 30, 255)
    assert rgba(ink, 100, 10)[3] == 0 and rgba(ink, 100, 90)[3] == 0
    assert canvas.layer("notes") == blank and canvas.is_modified()
    assert canvas.undo_stack.count() == 1

    canvas.undo_stack.undo()
    assert canvas.layer("ink") == blank and not canvas.is_modified()
    canvas.undo_stack.redo()
    assert canvas.layer("ink") == ink


def test_each_stroke_is_one_undo_step_and_clearing_is_undoable(canvas):
    drag(canvas, line(30))
    one = canvas.layer("ink")
    drag(canvas, line(70))
    two = canvas.layer("ink")
    canvas.clear_layer("ink")
    assert rgba(canvas.layer("ink"), 100, 30)[3] == 0
    canvas.undo_stack.undo()
    assert canvas.layer("ink") == two
    canvas.undo_stack.undo()
    assert canvas.layer("ink") == one


def test_the_eraser_clears_the_current_layer_only(canvas):
    drag(canvas, line(50))
    canvas.set_current_layer("notes")
    canvas.set_pen_width(8)
    drag(canvas, line(50))
    canvas.set_tool("eraser")
    canvas.set_pen_width(30)
    drag(canvas, [(100, 20), (100, 80)])
    assert rgba(canvas.layer("notes"), 100, 50)[3] == 0
    assert rgba(canvas.layer("notes"), 30, 50)[3] == 255
    assert rgba(canvas.layer("ink"), 100, 50)[3] == 255


def test_a_hidden_notes_layer_is_left_out_of_the_composite(canvas):
    canvas.set_current_layer("notes")
    drag(canvas, line(50))
    red = canvas.composite().pixelColor(100, 50)
    assert red.red() > 200 and red.green() < 60  # notes are red by default
    canvas.set_layer_visible("notes", False)
    assert rgba(canvas.composite(), 100, 50) == (255, 255, 255, 255)


def test_the_underlay_is_saved_at_full_opacity(canvas):
    sky = QImage(QSize(200, 100), QImage.Format.Format_RGB32)
    sky.fill(QColor(*SKY))
    canvas.set_underlay(sky)
    canvas.set_underlay_opacity(0.5)
    assert rgba(canvas.composite(), 10, 10) == (*SKY, 255)


def test_light_pressure_on_a_tablet_draws_a_thinner_line(canvas):
    canvas.set_pen_width(20)
    assert all(tablet_stroke(canvas, line(25), 1.0))
    assert all(tablet_stroke(canvas, line(75), 0.2))
    ink = canvas.layer("ink")
    heavy = sum(1 for y in range(0, 50) if ink.pixelColor(100, y).alpha() >= 128)
    light = sum(1 for y in range(50, 100) if ink.pixelColor(100, y).alpha() >= 128)
    assert heavy >= 18 and 2 <= light <= 6
    assert canvas.undo_stack.count() == 2


def test_the_brush_is_soft_and_follows_pressure(canvas):
    canvas.set_tool("brush")
    canvas.set_pen_width(20)
    tablet_stroke(canvas, line(25), 1.0)
    tablet_stroke(canvas, line(75), 0.3)
    ink = canvas.layer("ink")
    assert ink.pixelColor(100, 25).alpha() > 2 * ink.pixelColor(100, 75).alpha() > 0
    # Soft: the edge of the stroke is fainter than its middle.
    assert 0 < ink.pixelColor(100, 33).alpha() < ink.pixelColor(100, 25).alpha()


# -- the dialog --------------------------------------------------------------------------


def solid_take(state, shot_id, colour=SKY):
    buffer = io.BytesIO()
    Image.new("RGB", (640, 268), colour).save(buffer, format="PNG")
    data = buffer.getvalue()
    return state.record_take(shot_id, TakeKind.generated, state.folder.media.put(data), len(data))


@pytest.fixture
def shot_id(state):
    return shots.list_shots(state.db)[0].id


@pytest.fixture
def open_sketch(state, services, qtbot):
    """Open a sketch dialog and wait for its underlay to arrive from the background."""

    def open_(shot, source=None):
        dialog = SketchDialog(state, shot, source, pool=services.pool)
        qtbot.addWidget(dialog)
        with qtbot.waitSignal(dialog.underlay_changed, timeout=10_000):
            dialog.show()
        dialog.resize(900, 600)
        qtbot.waitExposed(dialog)
        return dialog

    return open_


def media_image(state, digest):
    return Image.open(io.BytesIO(state.folder.media.read(digest)))


def test_a_sketch_is_saved_as_a_drawn_take_and_can_be_edited_again(state, shot_id, open_sketch, qtbot):
    source = solid_take(state, shot_id)
    dialog = open_sketch(shot_id, source)
    canvas = dialog.canvas
    assert rgba(canvas.underlay(), 10, 10) == (*SKY, 255)
    width, height = canvas.image_size().width(), canvas.image_size().height()
    canvas.set_color(RED)
    canvas.set_pen_width(12)
    drag(canvas, line(height // 2, 100, width - 100))
    with qtbot.waitSignal(dialog.take_saved, timeout=10_000) as saved:
        dialog.save()
    take = takes.get_take(state.db, saved.args[0])
    assert (take.kind, take.parent_id, take.shot_id) == (TakeKind.drawn, source, shot_id)
    assert not canvas.is_modified()

    frame = media_image(state, take.media_hash)
    assert (frame.mode, frame.size) == ("RGB", (width, height))
    assert frame.getpixel((width // 2, height // 2)) == (200, 30, 30)
    assert frame.getpixel((width // 2, 20)) == SKY

    sketch = json.loads(take.recipe)["sketch"]
    assert sketch["underlay"] == takes.get_take(state.db, source).media_hash
    assert sketch["size"] == [width, height]
    ink, notes = media_image(state, sketch["ink"]), media_image(state, sketch["notes"])
    assert ink.mode == notes.mode == "RGBA"
    assert ink.getpixel((width // 2, height // 2)) == (200, 30, 30, 255)
    assert ink.getpixel((width // 2, 20))[3] == 0
    assert notes.getextrema()[3] == (0, 0)

    again = open_sketch(shot_id, take.id)
    assert again.canvas.layer("ink") == canvas.layer("ink")
    assert rgba(again.canvas.underlay(), 10, 10) == (*SKY, 255)
    assert again.canvas.isEnabled() and not again.canvas.is_modified()


def test_the_blocking_render_arrives_in_the_background_and_a_blank_panel_is_white(state, shot_id, open_sketch):
    dialog = open_sketch(shot_id)
    assert dialog.underlay_choice() == "blocking"
    blocking = pil_from_qimage(dialog.canvas.underlay()).convert("RGB")
    assert len(blocking.getcolors(maxcolors=1_000_000)) > 10
    dialog.set_underlay_choice("blank")
    blank = pil_from_qimage(dialog.canvas.underlay()).convert("RGB")
    assert blank.getextrema() == ((255, 255), (255, 255), (255, 255))


def test_a_sketch_over_the_blocking_render_stores_the_render(state, shot_id, open_sketch, qtbot):
    dialog = open_sketch(shot_id)
    drag(dialog.canvas, line(100))
    with qtbot.waitSignal(dialog.take_saved, timeout=10_000) as saved:
        dialog.save()
    take = takes.get_take(state.db, saved.args[0])
    assert take.parent_id is None
    underlay = json.loads(take.recipe)["sketch"]["underlay"]
    stored = media_image(state, underlay).convert("RGB")
    expected = dialog.canvas.underlay().convertToFormat(QImage.Format.Format_RGB32)
    assert stored.getpixel((300, 200)) == rgba(expected, 300, 200)[:3]


def test_refine_saves_and_asks_for_the_saved_take(state, shot_id, open_sketch, qtbot):
    dialog = open_sketch(shot_id, solid_take(state, shot_id))
    drag(dialog.canvas, line(100))
    saved = []
    dialog.take_saved.connect(saved.append)
    with qtbot.waitSignal(dialog.refine_requested, timeout=10_000) as asked:
        dialog.refine()
    refine = asked.args[0]
    assert saved == [refine] and refine == dialog.last_take_id
    assert takes.get_take(state.db, refine).kind == TakeKind.drawn
    # Unchanged since: refining again sends the same take, saving nothing new.
    count = len(takes.list_takes(state.db, shot_id))
    with qtbot.waitSignal(dialog.refine_requested) as again:
        dialog.refine()
    assert again.args == [refine] and len(takes.list_takes(state.db, shot_id)) == count


def test_a_second_save_while_one_runs_keeps_one_take(state, shot_id, open_sketch, services, qtbot):
    dialog = open_sketch(shot_id)
    count = len(takes.list_takes(state.db, shot_id))
    drag(dialog.canvas, line(100))
    with qtbot.waitSignal(dialog.take_saved, timeout=10_000):
        dialog.save()
        dialog.save()
    services.pool.waitForDone(10_000)
    QApplication.processEvents()
    assert len(takes.list_takes(state.db, shot_id)) == count + 1 and not dialog.is_busy()


def test_a_failed_save_is_reported_and_the_drawing_kept(state, shot_id, open_sketch, qtbot, monkeypatch):
    dialog = open_sketch(shot_id, solid_take(state, shot_id))
    drag(dialog.canvas, line(100))
    drawn = dialog.canvas.layer("ink")
    count = len(takes.list_takes(state.db, shot_id))

    def full(data):
        raise MediaWriteError("cannot write media file: No space left on device")

    monkeypatch.setattr(state.folder.media, "put", full)
    with qtbot.waitSignal(state.error_reported, timeout=10_000) as error:
        dialog.save()
    assert "could not be saved" in error.args[0] and "No space left" in error.args[0]
    assert dialog.canvas.is_modified() and dialog.canvas.layer("ink") == drawn
    assert len(takes.list_takes(state.db, shot_id)) == count and not dialog.is_busy()


def test_closing_with_unsaved_strokes_asks_first(state, shot_id, open_sketch, qtbot):
    dialog = open_sketch(shot_id)
    drag(dialog.canvas, line(100))
    dialog.close()
    assert dialog.isVisible()
    box = dialog.findChild(QMessageBox)
    assert box is not None and box.isVisible()
    with qtbot.waitSignal(dialog.take_saved, timeout=10_000):
        box.button(QMessageBox.StandardButton.Save).click()
    qtbot.waitUntil(lambda: not dialog.isVisible())

    other = open_sketch(shot_id)
    drag(other.canvas, line(100))
    other.discard()
    assert not other.isVisible()


def test_the_toolbar_drives_the_canvas_and_ctrl_z_undoes_a_stroke(state, shot_id, open_sketch, qtbot):
    dialog = open_sketch(shot_id)
    canvas = dialog.canvas
    dialog.activateWindow()
    canvas.setFocus()
    drag(canvas, line(100))
    drawn = canvas.layer("ink")
    qtbot.keyClick(canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert rgba(drawn, 100, 100)[3] == 255 and rgba(canvas.layer("ink"), 100, 100)[3] == 0
    qtbot.keyClick(canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert canvas.layer("ink") == drawn

    dialog.tool_actions["eraser"].trigger()
    dialog.layer_combo.setCurrentIndex(dialog.layer_combo.findData("notes"))
    dialog.visibility_actions["ink"].toggle()
    dialog.opacity_slider.setValue(40)
    dialog.size_slider.setValue(17)
    assert (canvas.tool(), canvas.current_layer, canvas.is_layer_visible("ink")) == ("eraser", "notes", False)
    assert (canvas.underlay_opacity(), canvas.pen_width()) == (0.4, 17)


# -- flushing before the project closes ----------------------------------------------------


def takes_of(state, shot_id):
    return takes.list_takes(state.db, shot_id)


def slow_media(state, monkeypatch, gate=None):
    """Media writes off the GUI thread wait a little (or for `gate`), so a save is still
    running when the test goes on; writes on the GUI thread go straight through."""
    put = state.folder.media.put

    def slow(data):
        if threading.current_thread() is not threading.main_thread():
            if gate is None:
                time.sleep(0.05)
            else:
                assert gate.wait(10)
        return put(data)

    monkeypatch.setattr(state.folder.media, "put", slow)


def visible_boxes(dialog):
    return [box for box in dialog.findChildren(QMessageBox) if box.isVisible()]


def test_flush_keeps_unsaved_strokes_as_a_drawn_take_before_it_returns(state, shot_id, open_sketch):
    source = solid_take(state, shot_id)
    dialog = open_sketch(shot_id, source)
    canvas = dialog.canvas
    canvas.set_color(RED)
    canvas.set_pen_width(12)
    drag(canvas, line(100, 100, 300))
    assert dialog.isWindowModified()
    before = takes_of(state, shot_id)

    assert dialog.flush()  # no event loop turn after this: the take is already in the store

    after = takes_of(state, shot_id)
    assert len(after) == len(before) + 1
    take = after[-1]
    assert (take.kind, take.parent_id, take.id) == (TakeKind.drawn, source, dialog.last_take_id)
    frame = media_image(state, take.media_hash)
    assert frame.getpixel((200, 100)) == (200, 30, 30) and frame.getpixel((200, 20)) == SKY
    assert not canvas.is_modified() and not dialog.isWindowModified()
    assert not dialog.is_busy() and not visible_boxes(dialog)


def test_flush_waits_for_a_save_in_flight_and_ends_with_one_take(
    state, shot_id, open_sketch, services, monkeypatch, qtbot,
):
    dialog = open_sketch(shot_id)
    drag(dialog.canvas, line(100))
    count = len(takes_of(state, shot_id))
    slow_media(state, monkeypatch)
    refined = []
    dialog.refine_requested.connect(refined.append)
    dialog.refine()  # saves first; a refine is not started while the project closes
    assert dialog.is_busy()

    dialog.flush()

    assert len(takes_of(state, shot_id)) == count + 1
    assert not dialog.is_busy() and not dialog.canvas.is_modified()
    services.pool.waitForDone(10_000)
    qtbot.wait(20)
    assert len(takes_of(state, shot_id)) == count + 1 and refined == []


def test_strokes_made_while_a_save_runs_are_flushed_as_a_second_take(state, shot_id, open_sketch, monkeypatch):
    dialog = open_sketch(shot_id)
    canvas = dialog.canvas
    drag(canvas, line(60))
    count = len(takes_of(state, shot_id))
    slow_media(state, monkeypatch)
    dialog.save()
    drag(canvas, line(160))

    dialog.flush()

    first, second = takes_of(state, shot_id)[count:]
    assert rgba(canvas.layer("ink"), 100, 160)[3] == 255

    def ink_alpha(take, y):
        return media_image(state, json.loads(take.recipe)["sketch"]["ink"]).getpixel((100, y))[3]

    assert (ink_alpha(first, 60), ink_alpha(first, 160)) == (255, 0)
    assert (ink_alpha(second, 60), ink_alpha(second, 160)) == (255, 255)
    assert not canvas.is_modified()


def test_flush_gives_up_a_stuck_save_and_keeps_the_strokes_itself(
    state, shot_id, open_sketch, services, monkeypatch, qtbot,
):
    dialog = open_sketch(shot_id)
    drag(dialog.canvas, line(100))
    count = len(takes_of(state, shot_id))
    gate = threading.Event()
    slow_media(state, monkeypatch, gate)
    monkeypatch.setattr(sketch_dialog, "_FLUSH_WAIT_MS", 50)
    dialog.save()

    dialog.flush()

    assert len(takes_of(state, shot_id)) == count + 1 and not dialog.is_busy()
    gate.set()
    services.pool.waitForDone(10_000)
    qtbot.wait(20)
    # The given-up save wrote its files but recorded nothing: it could not once the project closed.
    assert len(takes_of(state, shot_id)) == count + 1


def test_flush_with_nothing_to_save_adds_nothing(state, shot_id, open_sketch, qtbot):
    dialog = open_sketch(shot_id)
    count = len(takes_of(state, shot_id))
    dialog.flush()
    assert len(takes_of(state, shot_id)) == count

    drag(dialog.canvas, line(100))
    with qtbot.waitSignal(dialog.take_saved, timeout=10_000):
        dialog.save()
    dialog.flush()
    assert len(takes_of(state, shot_id)) == count + 1


def test_flush_answers_the_close_question_itself(state, shot_id, open_sketch):
    dialog = open_sketch(shot_id)
    drag(dialog.canvas, line(100))
    count = len(takes_of(state, shot_id))
    dialog.close()
    assert visible_boxes(dialog)

    dialog.flush()
    dialog.discard()

    assert not visible_boxes(dialog) and not dialog.isVisible()
    assert len(takes_of(state, shot_id)) == count + 1


def test_a_failed_flush_is_reported_without_asking(state, shot_id, open_sketch, qtbot, monkeypatch):
    dialog = open_sketch(shot_id)
    drag(dialog.canvas, line(100))
    count = len(takes_of(state, shot_id))

    def full(data):
        raise MediaWriteError("cannot write media file: No space left on device")

    monkeypatch.setattr(state.folder.media, "put", full)
    errors = []
    state.error_reported.connect(errors.append)
    assert dialog.flush() is False  # the workspace must not discard it
    assert len(errors) == 1 and "No space left" in errors[0]
    assert len(takes_of(state, shot_id)) == count and dialog.canvas.is_modified()
    assert not dialog.is_busy() and not visible_boxes(dialog)


def test_discard_drops_a_running_save(state, shot_id, open_sketch, services, monkeypatch, qtbot):
    dialog = open_sketch(shot_id)
    drag(dialog.canvas, line(100))
    count = len(takes_of(state, shot_id))
    slow_media(state, monkeypatch)
    dialog.save()
    dialog.discard()
    assert not dialog.isVisible()
    services.pool.waitForDone(10_000)
    qtbot.wait(20)
    assert len(takes_of(state, shot_id)) == count


def test_save_and_refine_wait_for_a_drawn_takes_layers(state, shot_id, open_sketch, services, qtbot):
    first = open_sketch(shot_id)
    drag(first.canvas, line(100))
    with qtbot.waitSignal(first.take_saved, timeout=10_000) as saved:
        first.save()
    count = len(takes_of(state, shot_id))

    dialog = SketchDialog(state, shot_id, saved.args[0], pool=services.pool)
    qtbot.addWidget(dialog)
    asked = []
    dialog.refine_requested.connect(asked.append)
    # The saved layers are read in the background: until they arrive the canvas holds blank ones.
    assert not (dialog.save_button.isEnabled() or dialog.refine_button.isEnabled() or dialog.canvas.isEnabled())
    dialog.save()
    dialog.refine()
    dialog.flush()
    with qtbot.waitSignal(dialog.underlay_changed, timeout=10_000):
        dialog.show()
    services.pool.waitForDone(10_000)
    qtbot.wait(20)
    assert len(takes_of(state, shot_id)) == count and asked == []
    assert dialog.save_button.isEnabled() and dialog.refine_button.isEnabled() and dialog.canvas.isEnabled()
    assert dialog.canvas.layer("ink") == first.canvas.layer("ink")


def test_the_title_marks_unsaved_strokes(state, shot_id, open_sketch, qtbot):
    dialog = open_sketch(shot_id)
    assert not dialog.isWindowModified()
    drag(dialog.canvas, line(100))
    assert dialog.isWindowModified()
    dialog.canvas.undo_stack.undo()
    assert not dialog.isWindowModified()
    dialog.canvas.undo_stack.redo()
    with qtbot.waitSignal(dialog.take_saved, timeout=10_000):
        dialog.save()
    assert not dialog.isWindowModified()
