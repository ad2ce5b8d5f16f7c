from fractions import Fraction

import pytest

from previz_app.domain.model import Project, normalize_field
from previz_app.domain.timing import action_beats, estimate_duration
from previz_app.domain.vocabulary import Angle, Direction, ShotSize, frame_rate


def test_project_validates_format():
    assert Project(title="A", aspect_ratio=2.391).aspect_ratio == 2.39
    with pytest.raises(ValueError, match="unsupported aspect ratio 1.5"):
        Project(title="A", aspect_ratio=1.5)
    with pytest.raises(ValueError, match="unsupported frame rate 50"):
        Project(title="A", fps=50)
    with pytest.raises(ValueError, match="unknown style preset 'oil'"):
        Project(title="A", style_preset="oil")


def test_frame_rates_are_exact_fractions():
    assert Project(title="A", fps=24.0001).fps == 24.0 and Project(title="A", fps=23.976).fps == 23.976
    assert frame_rate(23.976) == Fraction(24000, 1001)
    assert frame_rate(29.97) == Fraction(30000, 1001)
    assert frame_rate(25) == 25


def test_shot_fields_are_validated_and_normalized():
    assert normalize_field("shot", "size", "cu") is ShotSize.cu
    assert normalize_field("shot", "size", "two_shot") is ShotSize.two_shot
    assert normalize_field("shot", "angle", "DUTCH") is Angle.dutch
    assert normalize_field("shot", "direction", "in") is Direction.in_
    assert normalize_field("shot", "characters", "mara, tom ") == ("MARA", "TOM")
    assert normalize_field("shot", "seed", "") is None
    assert normalize_field("shot", "seed", " 42 ") == 42
    with pytest.raises(ValueError, match="seed must be a whole number, or empty for automatic, not 'abc'"):
        normalize_field("shot", "seed", "abc")
    with pytest.raises(ValueError, match="shot size: unknown shot size 'HUGE'"):
        normalize_field("shot", "size", "HUGE")
    with pytest.raises(ValueError, match="lens must be between 6 and 1200 mm"):
        normalize_field("shot", "lens_mm", 2)
    with pytest.raises(ValueError, match="shot field 'id' cannot be edited"):
        normalize_field("shot", "id", 3)


def test_durations_from_dialogue_and_action():
    assert action_beats("She turns. She runs! Gone?") == 3
    # 10 words at 2.5 words/s = 4 s
    assert estimate_duration(dialogue="one two three four five six seven eight nine ten") == 4.0
    assert estimate_duration(action="A door opens.") == 1.5
    assert estimate_duration() == 1.5
