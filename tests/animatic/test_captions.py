"""Captions: cues from dialogue, SRT/WebVTT files parsed back to the millisecond, and the
burn-in overlays checked by their pixels."""

import re
from fractions import Fraction

import numpy as np
import pytest
from PIL import Image

from previz_app.animatic.captions import CUE_LINES, LINE_CHARS, Cue, caption_cues, caption_overlay, info_overlay, write_srt, write_vtt
from previz_app.animatic.timeline import build_timeline
from previz_app.store import operations, settings, shots

_TIMING = re.compile(r"^(\d\d):(\d\d):(\d\d)([,.])(\d{3}) --> (\d\d):(\d\d):(\d\d)([,.])(\d{3})$")


def parse_subtitles(path, vtt: bool) -> list[tuple[int, int, str]]:
    """(start ms, end ms, text) of each cue: a strict little SRT / WebVTT reader."""
    raw = path.read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf") and b"\r" not in raw
    blocks = raw.decode("utf-8").rstrip("\n").split("\n\n")
    if vtt:
        assert blocks.pop(0) == "WEBVTT"
    cues = []
    for number, block in enumerate(blocks, start=1):
        index, timing, *text = block.split("\n")
        assert index == str(number) and text
        match = _TIMING.match(timing)
        assert match, timing
        h1, m1, s1, sep1, ms1, h2, m2, s2, sep2, ms2 = match.groups()
        assert sep1 == sep2 == ("." if vtt else ",")
        start = ((int(h1) * 60 + int(m1)) * 60 + int(s1)) * 1000 + int(ms1)
        end = ((int(h2) * 60 + int(m2)) * 60 + int(s2)) * 1000 + int(ms2)
        cues.append((start, end, "\n".join(text)))
    return cues


def millis(frame: int, fps: Fraction) -> int:
    exact = Fraction(frame) * 1000 / fps
    return int(exact) + (1 if exact - int(exact) >= Fraction(1, 2) else 0)


def test_each_dialogue_shot_gets_a_cue_over_its_frames(drafted):
    timeline = build_timeline(drafted.db)
    cues = caption_cues(timeline)
    spoken = [item for item in timeline.shots if item.shot.dialogue]
    assert [(c.start, c.end, c.text, c.shot_number) for c in cues] == [
        (spoken[0].start, spoken[0].end, "ELLA: You came back.", spoken[0].number),
        (spoken[1].start, spoken[1].end, "TOM: The lamp was out.", spoken[1].number),
    ]


def test_a_long_exchange_is_wrapped_and_shared_across_the_shot(drafted):
    shot = shots.list_shots(drafted.db)[1]
    ella = "Nobody lights it any more, not since the storm took the keeper and the boat with him."
    tom = "Then I will."
    operations.perform(drafted.db, operations.EditShot(shot.id, "dialogue", f"ELLA (quietly): {ella}\nTOM: {tom}"))
    item = build_timeline(drafted.db).shots[1]
    cues = [cue for cue in caption_cues(build_timeline(drafted.db)) if cue.shot_number == item.number]
    assert len(cues) > 1
    assert cues[0].start == item.start and cues[-1].end == item.end
    assert all(a.end == b.start for a, b in zip(cues, cues[1:])) and all(c.end > c.start for c in cues)
    for cue in cues:
        lines = cue.text.split("\n")
        assert len(lines) <= CUE_LINES and all(len(line) <= LINE_CHARS for line in lines)
    assert " ".join(c.text.replace("\n", " ") for c in cues) == f"ELLA: {ella} TOM: {tom}"
    assert "quietly" not in "".join(c.text for c in cues)
    assert cues[-1].text == f"TOM: {tom}", "a short speech is not split from its speaker"
    # Screen time follows the length of the text.
    assert cues[0].end - cues[0].start > cues[-1].end - cues[-1].start


def test_a_very_short_shot_still_gives_every_cue_a_frame(drafted):
    shot = shots.list_shots(drafted.db)[1]
    operations.perform(drafted.db, operations.EditShot(shot.id, "duration", 0.1))  # 2 frames
    operations.perform(drafted.db, operations.EditShot(shot.id, "dialogue", "ELLA: " + "on and on " * 40))
    item = build_timeline(drafted.db).shots[1]
    cues = [cue for cue in caption_cues(build_timeline(drafted.db)) if cue.shot_number == item.number]
    assert item.frames == 2
    assert [(c.start, c.end) for c in cues] == [(item.start, item.start + 1), (item.start + 1, item.end)]
    assert " ".join(c.text.replace("\n", " ") for c in cues).split() == ("ELLA: " + "on and on " * 40).split()


@pytest.mark.parametrize(("fps", "rate"), [(29.97, Fraction(30000, 1001)), (23.976, Fraction(24000, 1001)), (25, Fraction(25))])
def test_srt_and_vtt_times_land_on_the_shot_boundaries(drafted, tmp_path, fps, rate):
    settings.update_project(drafted.db, fps=fps)
    first = shots.list_shots(drafted.db)[0]
    operations.perform(drafted.db, operations.EditShot(first.id, "dialogue", "ÉLODIE: Café & <crème> --> noir ☕"))
    timeline = build_timeline(drafted.db)
    cues = caption_cues(timeline)
    write_srt(cues, timeline.fps, tmp_path / "film.srt")
    write_vtt(cues, timeline.fps, tmp_path / "film.vtt")
    srt = parse_subtitles(tmp_path / "film.srt", vtt=False)
    vtt = parse_subtitles(tmp_path / "film.vtt", vtt=True)
    spoken = [item for item in timeline.shots if item.shot.dialogue]
    expected = [(millis(item.start, rate), millis(item.end, rate)) for item in spoken]
    assert [(s, e) for s, e, _ in srt] == expected == [(s, e) for s, e, _ in vtt]
    assert srt[0][0] == 0, "times count from the video's first frame"
    assert srt[0][2] == "ÉLODIE: Café & <crème> -> noir ☕"
    assert vtt[0][2] == "ÉLODIE: Café &amp; &lt;crème> -> noir ☕"
    assert [text for _, _, text in srt[1:]] == ["ELLA: You came back.", "TOM: The lamp was out."]


def test_milliseconds_round_half_up(tmp_path):
    # At 30000/1001 fps frame 15 starts at 500.5 ms and frame 45 at 1501.5 ms.
    write_srt([Cue(15, 45, "A line", "1")], Fraction(30000, 1001), tmp_path / "a.srt")
    write_vtt([Cue(15, 45, "A line", "1")], 29.97, tmp_path / "a.vtt")
    assert (tmp_path / "a.srt").read_text(encoding="utf-8") == "1\n00:00:00,501 --> 00:00:01,502\nA line\n"
    assert parse_subtitles(tmp_path / "a.vtt", vtt=True) == [(501, 1502, "A line")]
    write_srt([Cue(3 * 3600 * 24 + 1, 3 * 3600 * 24 + 2, "Late", "9")], 24, tmp_path / "b.srt")
    assert parse_subtitles(tmp_path / "b.srt", vtt=False) == [(3 * 3600_000 + 42, 3 * 3600_000 + 83, "Late")]


def test_writing_replaces_the_file_whole_or_not_at_all(tmp_path):
    target = tmp_path / "film.srt"
    write_srt([Cue(0, 24, "First", "1")], 24, target)
    write_srt([Cue(0, 48, "Second", "1")], 24, target)
    assert parse_subtitles(target, vtt=False) == [(0, 2000, "Second")]
    with pytest.raises(ValueError, match="caption 2 .*shot 2.* must end after it starts"):
        write_srt([Cue(0, 24, "Fine", "1"), Cue(30, 30, "Broken", "2")], 24, target)
    with pytest.raises(ValueError, match="caption 1 .*has no text"):
        write_vtt([Cue(0, 24, " \n ", "1")], 24, target)
    assert parse_subtitles(target, vtt=False) == [(0, 2000, "Second")]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["film.srt"]


def _opaque_white(image: Image.Image) -> np.ndarray:
    pixels = np.asarray(image)
    return (pixels[..., 3] == 255) & (pixels[..., :3].min(axis=2) > 200)


@pytest.mark.parametrize("size", [(1920, 1080), (640, 480), (2048, 858), (160, 90)])
def test_the_caption_burn_in_sits_bottom_centre_inside_the_frame(size):
    width, height = size
    image, (x, y) = caption_overlay("ELLA: You came back.\nTOM: The lamp was out, the boat was gone.", size)
    assert image.mode == "RGBA"
    assert 0 <= x and x + image.width <= width and 0 <= y and y + image.height <= height
    assert abs(x + image.width / 2 - width / 2) <= 1
    assert y + image.height == height - height // 20, "resting on the bottom margin"
    text = _opaque_white(image)
    assert text.sum() > 10
    rows, cols = np.nonzero(text)
    assert rows.min() > 0 and cols.min() > 0 and rows.max() < image.height - 1 and cols.max() < image.width - 1
    alpha = np.asarray(image)[..., 3]
    assert 0 < alpha[0, 0] < 255 and np.asarray(image)[0, 0, :3].max() < 60, "a translucent dark box"


def test_the_caption_font_follows_the_frame_and_long_lines_are_rewrapped():
    small, _ = caption_overlay("You came back.", (640, 360))
    large, _ = caption_overlay("You came back.", (1920, 1080))
    assert large.height > 2 * small.height
    narrow, (x, _y) = caption_overlay("W" * 10 + " word" * 30, (320, 240))
    assert narrow.height > 2 * small.height * 240 / 360 and x >= 0 and narrow.width <= 320
    with pytest.raises(ValueError, match="needs some text"):
        caption_overlay("  ", (640, 360))


def test_the_info_burn_in_is_a_steady_box_top_left():
    size = (1920, 1080)
    first, at_first = info_overlay("3B", "01:00:00:00", size)
    later, at_later = info_overlay("3B", "01:00:11:11", size)
    assert first.size == later.size and at_first == at_later
    assert at_first[0] + first.width < size[0] / 2 and at_first[1] + first.height < size[1] / 4
    assert _opaque_white(first).sum() > 50
    assert not np.array_equal(np.asarray(first), np.asarray(later)), "the timecode is drawn"
    tiny, (x, y) = info_overlay("12AB", "01:00:00:00", (64, 36))
    assert x >= 0 and y >= 0 and x + tiny.width <= 64 and y + tiny.height <= 36
