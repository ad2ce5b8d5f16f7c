"""The takes strip: newest first, star and hero as undoable edits, image import off
the GUI thread, and the recipe of the selected take."""

import io
import json

import pytest
from PIL import Image
from PySide6.QtCore import Qt

from previz_app.domain.vocabulary import TakeKind
from previz_app.engine.request import FrameRequest, Lora, Mode, encode_png
from previz_app.store import shots, takes
from previz_app.ui.takes_view import TakesView
from previz_app.ui.thumbnails import ThumbnailCache


@pytest.fixture
def view(state, services, qtbot, tmp_path):
    thumbnails = ThumbnailCache(state.folder.media.root, tmp_path / "thumbs", services.pool)
    made = TakesView(state, thumbnails, pool=services.pool)
    qtbot.addWidget(made)
    made.resize(700, 320)
    made.show()
    state.set_current_shot(shots.list_shots(state.db)[0].id)
    return made


def add_take(state, kind=TakeKind.generated, colour=(200, 40, 40), request=None, recipe=None):
    shot_id = state.current_shot_id
    request = request or FrameRequest(96, 40, seed=colour[0])
    data = encode_png(Image.new("RGB", (request.width, request.height), colour), request)
    if recipe is None:
        recipe = request.to_json() if kind is TakeKind.generated else json.dumps({"strokes": 3})
    return state.record_take(shot_id, kind, state.folder.media.put(data), len(data), recipe)


def shown_ids(view):
    return [view.model.take(row).id for row in range(view.model.rowCount())]


def stored_take(state, take_id):
    return takes.get_take(state.db, take_id)


def test_takes_are_listed_newest_first_and_follow_the_current_shot(view, state):
    ids = [add_take(state, colour=(c, 0, 0)) for c in (10, 20, 30)]
    assert shown_ids(view) == list(reversed(ids))
    other = shots.list_shots(state.db)[1]
    state.set_current_shot(other.id)
    assert shown_ids(view) == []
    state.set_current_shot(None)
    assert view.model.rowCount() == 0 and not view.import_button.isEnabled()


def test_starring_a_take_changes_the_store_and_undoes(view, state):
    take_id = add_take(state)
    view.select_take(take_id)
    assert not view.star_button.isChecked()
    view.star_button.click()
    assert stored_take(state, take_id).starred
    assert view.star_button.isChecked() and view.selected_take_id() == take_id
    view.star_button.click()
    assert not stored_take(state, take_id).starred
    state.undo_stack.undo()
    assert stored_take(state, take_id).starred
    state.undo_stack.undo()
    assert not stored_take(state, take_id).starred and not view.star_button.isChecked()


def test_use_as_hero_and_double_click_set_the_hero_and_undo(view, state, qtbot):
    first = add_take(state, colour=(10, 0, 0))  # the first take of a shot becomes its hero
    second = add_take(state, colour=(20, 0, 0))
    third = add_take(state, colour=(30, 0, 0))
    shot_id = state.current_shot_id
    assert state.shot(shot_id).hero_take_id == first
    view.select_take(second)
    assert view.hero_button.isEnabled()
    view.hero_button.click()
    assert state.shot(shot_id).hero_take_id == second and not view.hero_button.isEnabled()
    index = view.model.index(view.model.row_of(third))
    centre = view.list_view.visualRect(index).center()
    # A real double-click is a press and release, then the double-click event.
    qtbot.mouseClick(view.list_view.viewport(), Qt.MouseButton.LeftButton, pos=centre)
    qtbot.mouseDClick(view.list_view.viewport(), Qt.MouseButton.LeftButton, pos=centre)
    assert state.shot(shot_id).hero_take_id == third
    assert view.model.data(index, view.model.HeroRole)
    state.undo_stack.undo()
    assert state.shot(shot_id).hero_take_id == second
    state.undo_stack.undo()
    assert state.shot(shot_id).hero_take_id == first


def test_the_strip_paints_thumbnails_and_marks_the_hero(view, state, qtbot):
    hero = add_take(state, colour=(20, 200, 40))
    other = add_take(state, colour=(30, 40, 220))
    qtbot.waitUntil(lambda: view.thumbnails.pending() == 0 and view.thumbnails.get(stored_take(state, other).media_hash, 160) is not None)
    qtbot.waitUntil(lambda: view.thumbnails.get(stored_take(state, hero).media_hash, 160) is not None)
    view.select_take(None)
    image = view.list_view.viewport().grab().toImage()
    for take_id, colour in ((hero, (20, 200, 40)), (other, (30, 40, 220))):
        rect = view.list_view.visualRect(view.model.index(view.model.row_of(take_id)))
        middle = image.pixelColor(rect.center().x(), rect.top() + 30)
        assert all(abs(a - b) < 12 for a, b in zip(middle.getRgb()[:3], colour)), middle.getRgb()
    hero_rect = view.list_view.visualRect(view.model.index(view.model.row_of(hero)))
    frame = image.pixelColor(hero_rect.center().x(), hero_rect.top() + 5)
    assert frame.getRgb()[:3] == (232, 160, 64)  # the accent frame
    other_rect = view.list_view.visualRect(view.model.index(view.model.row_of(other)))
    assert image.pixelColor(other_rect.center().x(), other_rect.top() + 5).getRgb()[:3] != (232, 160, 64)


def test_importing_a_png_and_a_jpeg_keeps_their_pixels(view, state, qtbot, tmp_path):
    png = tmp_path / "red.png"
    Image.new("RGB", (80, 50), (210, 30, 30)).save(png)
    jpeg = tmp_path / "photo.jpg"
    Image.radial_gradient("L").convert("RGB").resize((120, 90)).save(jpeg, quality=80)
    task = view.import_files([str(png), str(jpeg)])
    with qtbot.waitSignal(task.ended):
        pass
    imported = takes.list_takes(state.db, state.current_shot_id)
    assert [t.kind for t in imported] == [TakeKind.imported, TakeKind.imported]
    assert [json.loads(t.recipe) for t in imported] == [{"imported": "red.png"}, {"imported": "photo.jpg"}]
    first, second = (Image.open(io.BytesIO(state.folder.media.read(t.media_hash))) for t in imported)
    assert first.format == "PNG" and first.size == (80, 50)
    assert first.getcolors() == [(80 * 50, (210, 30, 30))]
    with Image.open(jpeg) as original:
        assert second.format == "PNG" and second.convert("RGB").tobytes() == original.convert("RGB").tobytes()
    assert shown_ids(view) == [imported[1].id, imported[0].id]


def test_a_broken_file_is_reported_by_name_and_the_good_one_still_imported(view, state, qtbot, tmp_path):
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n not really")
    good = tmp_path / "good.png"
    Image.new("RGBA", (40, 40), (0, 90, 200, 128)).save(good)
    errors = []
    state.error_reported.connect(errors.append)
    task = view.import_files([str(broken), str(good), str(tmp_path / "gone.jpg")])
    with qtbot.waitSignal(task.ended):
        pass
    assert len(errors) == 1 and "broken.png" in errors[0] and "gone.jpg" in errors[0] and "good.png" not in errors[0]
    (imported,) = takes.list_takes(state.db, state.current_shot_id)
    stored = Image.open(io.BytesIO(state.folder.media.read(imported.media_hash)))
    assert stored.mode == "RGBA" and stored.getcolors() == [(40 * 40, (0, 90, 200, 128))]


def test_importing_without_a_shot_is_reported(view, state, qtbot):
    state.set_current_shot(None)
    with qtbot.waitSignal(state.error_reported) as reported:
        assert view.import_files(["anything.png"]) is None
    assert "Select a shot" in reported.args[0]


def test_the_recipe_panel_describes_the_selected_take(view, state, qtbot):
    request = FrameRequest(
        96, 40, engine="diffusers", model="dreamy-v2", seed=987654, steps=30, mode=Mode.img2img,
        init_image="ab" * 32, strength=0.45, loras=(Lora("/models/ink-style.safetensors", 0.7),),
        prompt="a lighthouse at night", negative_prompt="blurry",
    )
    generated = add_take(state, request=request)
    drawn = add_take(state, TakeKind.drawn, colour=(1, 2, 3))
    broken = add_take(state, colour=(4, 5, 6), recipe='{"width": "wide"')
    with qtbot.waitSignal(view.selected_take_changed) as selected:
        view.select_take(generated)
    assert selected.args == [generated]
    text = view.recipe_text.toPlainText()
    for expected in ("Seed: 987654", "Engine: diffusers", "Model: dreamy-v2", "Mode: img2img", "Steps: 30",
                     "Strength: 0.45", "ink-style.safetensors (0.7)", "Prompt: a lighthouse at night",
                     "Negative prompt: blurry", '"seed": 987654'):
        assert expected in text
    view.select_take(drawn)
    assert json.loads(view.recipe_text.toPlainText()) == {"strokes": 3}
    view.select_take(broken)
    assert view.recipe_text.toPlainText().startswith("unreadable recipe:")
    with qtbot.waitSignal(view.selected_take_changed) as cleared:
        view.select_take(None)
    assert cleared.args == [-1] and view.recipe_text.toPlainText() == ""


def test_a_generated_recipe_that_is_not_a_frame_is_unreadable_not_an_error(view, state):
    take_id = add_take(state, colour=(7, 7, 7), recipe='{"version": "x"}')
    view.select_take(take_id)
    assert view.recipe_text.toPlainText().startswith("unreadable recipe:")


def test_clicking_a_take_selects_it(view, state, qtbot):
    older = add_take(state, colour=(10, 0, 0))
    add_take(state, colour=(20, 0, 0))
    rect = view.list_view.visualRect(view.model.index(view.model.row_of(older)))
    with qtbot.waitSignal(view.selected_take_changed) as selected:
        qtbot.mouseClick(view.list_view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert selected.args == [older] and view.selected_take_id() == older
