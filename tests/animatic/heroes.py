"""Hero frames for animatic tests: every shot's first blocking frame."""

from previz_app.engine.base import RenderContext
from previz_app.engine.blocking.panel import BlockingEngine
from previz_app.engine.frames import frame_request, shot_context, store_take
from previz_app.store import shots


def give_heroes(folder, size=(320, 136)):
    """Draw every shot's first frame with the blocking engine; it becomes the hero."""
    engine = BlockingEngine()
    for shot in shots.list_shots(folder.db):
        request = frame_request(shot_context(folder, shot.id), size=size)
        store_take(folder, shot.id, engine.render(request, RenderContext()))
