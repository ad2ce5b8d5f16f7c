"""LED walls: canvas figures against hand-computed values, and walls that cannot be."""

import math

import pytest

from previz_app.domain.wall import (
    Cabinet,
    WallProfile,
    WallSection,
    profile_from_dict,
    profile_to_dict,
    wall_canvas,
)

BP2 = Cabinet(500, 500, 2.84)  # 500 mm cabinets of 2.84 mm pixels: 176 × 176 px


def curved(radius=11.4, arc=270.0, height=6.0, cabinet=BP2, **kw):
    return WallProfile("stage", (WallSection("curved", cabinet, height, radius_m=radius, arc_deg=arc),), **kw)


def test_a_cabinet_holds_whole_pixels():
    assert BP2.pixels == (176, 176)  # 500 / 2.84 = 176.06
    assert Cabinet(600, 337.5, 2.6).pixels == (231, 130)


def test_a_curved_wall_by_hand():
    # Each 0.5 m cabinet turns the wall by 2·asin(0.25 / 11.4) = 2.5132°; 270° holds
    # 107.4 of them, so 107 cabinets across spanning 268.91°; 6 m is 12 cabinets up.
    canvas = wall_canvas(curved())
    (section,) = canvas.sections
    step = math.degrees(2 * math.asin(0.25 / 11.4))
    assert (section.columns, section.rows) == (107, 12)
    assert section.arc_deg == pytest.approx(107 * step) == pytest.approx(268.91, abs=0.01)
    assert (canvas.width_px, canvas.height_px) == (107 * 176, 12 * 176) == (18832, 2112)
    assert canvas.cabinets == 1284 and canvas.pixels == 18832 * 2112
    assert canvas.pixels_per_degree == pytest.approx(18832 / (107 * step)) == pytest.approx(70.03, abs=0.01)
    assert canvas.outputs == 76  # 39,773,184 px / 525,000 px an output = 75.8


def test_a_flat_wall_by_hand():
    profile = WallProfile("flat", (WallSection("flat", Cabinet(500, 500, 2.6), 4.0, width_m=10, viewer_distance_m=6),),
                          output_capacity=650_000)
    canvas = wall_canvas(profile)
    assert Cabinet(500, 500, 2.6).pixels == (192, 192)
    assert (canvas.width_px, canvas.height_px, canvas.cabinets) == (20 * 192, 8 * 192, 160)
    # From 6 m, one degree straight ahead covers 6000·tan(1°) = 104.7 mm: 40.3 pixels of 2.6 mm.
    assert canvas.pixels_per_degree == pytest.approx(6000 * math.tan(math.radians(1)) / 2.6)
    assert canvas.outputs == math.ceil(3840 * 1536 / 650_000) == 10


def test_sections_stand_side_by_side():
    wing = WallSection("flat", BP2, 3.0, width_m=4.0)
    arc = WallSection("curved", BP2, 6.0, radius_m=8.0, arc_deg=90)
    canvas = wall_canvas(WallProfile("volume", (wing, arc, wing)))
    assert [s.columns for s in canvas.sections] == [8, round(90 / math.degrees(2 * math.asin(0.25 / 8))), 8]
    assert canvas.width_px == sum(s.width_px for s in canvas.sections)
    assert canvas.height_px == 12 * 176  # the tallest section
    assert canvas.pixels_per_degree == canvas.sections[1].pixels_per_degree  # flat wings without a distance say none


def test_a_curve_short_of_a_turn_never_rounds_past_360():
    # At 3 m a 0.5 m cabinet turns the wall by 2·asin(0.25 / 3) = 9.5604°. 359.5° is 37.60 of
    # them: the nearest whole number, 38, would span 363.29°, so it takes 37, spanning 353.73°.
    step = math.degrees(2 * math.asin(0.25 / 3))
    (section,) = wall_canvas(curved(radius=3.0, arc=359.5)).sections
    assert section.columns == 37 and section.width_px == 37 * 176
    assert section.arc_deg == section.span_deg == pytest.approx(37 * step) == pytest.approx(353.73, abs=0.01)
    # Short of a turn, the nearest whole number still holds: 100° is 10.46 cabinets, 91° is 9.52.
    assert wall_canvas(curved(radius=3.0, arc=100)).sections[0].columns == 10
    assert wall_canvas(curved(radius=3.0, arc=91)).sections[0].columns == 10


def test_a_ring_closes_at_exactly_360():
    # 360° at 3 m is 37.66 cabinets: 38 close the ring, which spans 360° (not 38 · 9.5604 = 363.29°).
    profile = curved(radius=3.0, arc=360)
    (section,) = wall_canvas(profile).sections
    assert section.columns == 38 and section.arc_deg == section.span_deg == 360
    assert section.pixels_per_degree == pytest.approx(38 * 176 / 360)


def test_sections_that_go_round_more_than_once_are_refused_naming_the_span():
    # 300° at 11.4 m: 119 cabinets of 2.5132° = 299.07°. A 4 m flat wing seen from 2 m adds
    # 2·atan(2 / 2) = 90°: 389.07° in all.
    arc = WallSection("curved", BP2, 6.0, radius_m=11.4, arc_deg=300)
    wing = WallSection("flat", BP2, 6.0, width_m=4.0, viewer_distance_m=2.0)
    with pytest.raises(ValueError, match=r"^the wall spans 389\.1° from the eye \(299\.1° \+ 90\.0°\); "
                                         r"a wall goes round the stage at most once \(360°\)"):
        wall_canvas(WallProfile("volume", (arc, wing)))
    with pytest.raises(ValueError, match="spans 389.1°"):
        profile_from_dict(profile_to_dict(WallProfile("volume", (arc, wing))))
    # Without a viewer distance the wing is seen from its own width away: 2·atan(1/2) = 53.13°, 352.20° in all.
    near = WallSection("flat", BP2, 6.0, width_m=4.0)
    canvas = wall_canvas(WallProfile("volume", (arc, near)))
    assert [section.span_deg for section in canvas.sections] == [pytest.approx(299.068, abs=1e-3),
                                                                  pytest.approx(53.130, abs=1e-3)]
    with pytest.raises(ValueError, match=r"spans 413\.1°"):  # a ring leaves room for nothing else
        wall_canvas(WallProfile("volume", (curved(radius=3.0, arc=360).sections[0], near)))


@pytest.mark.parametrize(("profile", "message"), [
    (curved(radius=0), "radius above zero"),
    (curved(arc=361), "at most 360°"),
    (curved(arc=0), "more than 0°"),
    (curved(cabinet=Cabinet(500, 500, 600)), "pitch of 600 mm is larger than its 500×500 mm cabinet"),
    (curved(cabinet=Cabinet(500, 0, 2.84)), "cabinet height must be a positive number"),
    (curved(height=0.1), "less than one 500 mm cabinet high"),
    (curved(radius=0.2), "cannot curve round a 0.2 m radius"),
    (curved(output_capacity=1000), "at least one cabinet"),
    (WallProfile("none", ()), "at least one section"),
    (WallProfile("w", (WallSection("dome", BP2, 3.0),)), "flat or curved, not 'dome'"),
    (WallProfile("w", (WallSection("flat", BP2, 3.0, width_m=0),)), "width above zero"),
])
def test_walls_that_cannot_be_built_are_refused_by_name(profile, message):
    with pytest.raises(ValueError, match=message):
        wall_canvas(profile)


def test_a_profile_round_trips_through_json_and_bad_json_names_the_problem():
    profile = curved()
    assert profile_from_dict(profile_to_dict(profile)) == profile
    with pytest.raises(ValueError, match="unknown field"):
        profile_from_dict({**profile_to_dict(profile), "colour": "red"})
    with pytest.raises(ValueError, match="missing cabinet"):
        profile_from_dict({"name": "w", "sections": [{"kind": "flat", "height_m": 3, "width_m": 4}]})
    with pytest.raises(ValueError, match="at most 360°"):
        profile_from_dict({**profile_to_dict(profile), "sections": [{**profile_to_dict(profile)["sections"][0], "arc_deg": 400}]})
    with pytest.raises(ValueError, match="a JSON object"):
        profile_from_dict([1, 2])
