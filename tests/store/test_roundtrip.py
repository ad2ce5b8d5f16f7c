"""Every entity survives the trip to the database and back, field for field."""

from dataclasses import replace

from previz_app.domain.model import Character, Location, Project, Scene, Shot, Take
from previz_app.domain.vocabulary import Angle, Direction, Movement, ShotSize, TakeKind
from previz_app.store import cast, open_project, scenes, settings, shots, takes
from previz_app.store.media import add_media


def test_project_settings(folder):
    project = Project(title="Tide", logline="A keeper.", aspect_ratio=1.85, fps=23.976,
                      default_shot_duration=2.5, style_preset="graphic_novel")
    settings.write_project(folder.db, project)
    assert settings.read_project(folder.db) == project


def test_shot_every_field_after_reopening(folder):
    with folder.transaction():
        scene_id = scenes.insert_scene(folder.db, Scene(number="12", heading="EXT. SEA - NIGHT"))
        shot = Shot(scene_id=scene_id, size=ShotSize.ots, angle=Angle.dutch, movement=Movement.pan,
                    direction=Direction.left, lens_mm=65.0, duration=4.5, action="Waves.", dialogue="MARA: Now.",
                    notes="rain fx", characters=("MARA", "TOM"), prompt_override="a storm", negative_prompt="text",
                    seed=2**40, locked_number="12X")
        shot_id = shots.append_shot(folder.db, shot)
    path = folder.path
    folder.close()
    with open_project(path) as again:
        loaded = shots.get_shot(again.db, shot_id)
    assert loaded == replace(shot, id=shot_id, number="12X")
    assert isinstance(loaded.size, ShotSize) and isinstance(loaded.direction, Direction)


def test_take_character_location(folder):
    with folder.transaction():
        scene_id = scenes.insert_scene(folder.db, Scene(number="1", heading="INT. A - DAY"))
        shot_id = shots.append_shot(folder.db, Shot(scene_id=scene_id))
        media = add_media(folder.db, folder.media, b"png bytes", "image/png", "ref.png")
        parent = takes.add_take(folder.db, Take(shot_id=shot_id, kind=TakeKind.drawn, media_hash=media))
        take = Take(shot_id=shot_id, kind=TakeKind.generated, media_hash=media, recipe='{"seed": 7}',
                    parent_id=parent, starred=True, created="2026-11-22T10:00:00+00:00")
        take_id = takes.add_take(folder.db, take)
        cast.save_character(folder.db, Character(name="MARA", description="keeper, 40s", reference_images=(media,)))
        cast.save_location(folder.db, Location(name="LIGHTHOUSE", description="white tower", reference_images=(media,)))
    assert takes.get_take(folder.db, take_id) == replace(take, id=take_id)
    assert takes.get_take(folder.db, parent).created  # stamped when not given
    assert cast.list_characters(folder.db) == [Character("MARA", "keeper, 40s", (media,), id=1)]
    assert cast.list_locations(folder.db) == [Location("LIGHTHOUSE", "white tower", (media,), id=1)]
    # Saving again by name updates in place.
    cast.save_character(folder.db, Character(name="MARA", description="keeper"))
    assert [c.description for c in cast.list_characters(folder.db)] == ["keeper"]
