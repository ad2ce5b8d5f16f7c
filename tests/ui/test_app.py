"""`previz-gui`: arguments, and a screenshot of a project that shows its frames."""

import numpy as np
import pytest
from PIL import Image

from previz_app.app import main, parse_args
from previz_app.domain.deck import Deck
from previz_app.engine.base import RenderContext
from previz_app.engine.blocking.panel import BlockingEngine
from previz_app.engine.frames import frame_request, shot_context, store_take
from previz_app.store import shots
from previz_app.store.deck import write_deck


def test_arguments_are_checked(capsys):
    assert parse_args(["Film.previz"]).size == (1600, 1000)
    assert parse_args(["--screenshot", "o.png", "--size", "900x600", "P"]).size == (900, 600)
    with pytest.raises(SystemExit):
        parse_args(["--screenshot", "o.png"])
    with pytest.raises(SystemExit):
        parse_args(["--size", "huge", "P"])
    assert "--size must look like" in capsys.readouterr().err


def colour_count(path):
    with Image.open(path) as image:
        return len(image.convert("RGB").getcolors(maxcolors=1 << 22))


def test_a_screenshot_waits_for_the_painted_board(drafted, tmp_path, qapp):
    bare = tmp_path / "bare.png"
    assert main(["--screenshot", str(bare), "--size", "1200x800", str(drafted.path)]) == 0
    engine = BlockingEngine()
    for shot in shots.list_shots(drafted.db):
        store_take(drafted, shot.id, engine.render(frame_request(shot_context(drafted, shot.id)), RenderContext()))
    out = tmp_path / "frames.png"
    assert main(["--screenshot", str(out), "--size", "1200x800", str(drafted.path)]) == 0
    with Image.open(out) as image:
        assert image.size == (1200, 800)
    # The blocking panels' skies, walls and shading add hundreds of colours, but only
    # once their thumbnails are painted.
    assert colour_count(out) > colour_count(bare) + 300


def test_a_screenshot_of_a_missing_project_fails(tmp_path, qapp, capsys):
    assert main(["--screenshot", str(tmp_path / "o.png"), str(tmp_path / "Nothing.previz")]) == 1
    assert not (tmp_path / "o.png").exists()


@pytest.mark.parametrize("dialog", ["boards", "deck"])
def test_a_screenshot_of_an_export_dialog_waits_for_its_preview(drafted, tmp_path, qapp, dialog):
    write_deck(drafted.db, Deck(tone="Cold and close; copper lamplight inside."))  # a page on paper, not the dark title
    out = tmp_path / f"{dialog}.png"
    assert main(["--screenshot", str(out), "--size", "1200x800", "--dialog", dialog, str(drafted.path)]) == 0
    with Image.open(out) as image:
        # The dialog, not the window; its preview is a white page among the dark theme.
        assert image.size != (1200, 800)
        grey = np.asarray(image.convert("L"))
    assert (grey > 235).mean() > 0.05
