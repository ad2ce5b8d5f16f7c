"""The first draft of shots follows the documented heuristic."""

from previz_app.domain.vocabulary import Angle, Movement, ShotSize
from previz_app.script.document import Action, Dialogue, make_scene
from previz_app.script.drafting import LENS_FOR_SIZE, draft_shots

CAST = frozenset({"MARA", "TOM"})


def sizes(shots):
    return [s.size for s in shots]


def test_new_exterior_location_opens_wide_and_carries_the_first_action():
    scene = make_scene("EXT. CLIFF - DAY", None, [Action("Wind flattens the grass."), Action("Mara climbs.")])
    shots = draft_shots(scene, CAST, new_location=True)
    assert sizes(shots) == [ShotSize.ews, ShotSize.ms]
    assert shots[0].action == "Wind flattens the grass." and shots[0].duration == 3.0
    assert shots[1].characters == ("MARA",) and shots[1].movement is Movement.tilt
    assert [s.position for s in shots] == [0, 1]
    assert all(s.lens_mm == LENS_FOR_SIZE[s.size] for s in shots)


def test_same_location_has_no_establishing_shot():
    scene = make_scene("INT. KITCHEN - NIGHT", None, [Action("Tom looms over the stove.")])
    shots = draft_shots(scene, CAST, new_location=False)
    assert sizes(shots) == [ShotSize.ms]
    assert shots[0].angle is Angle.low


def test_dialogue_exchange_alternates_ots_then_close_ups():
    lines = [Dialogue("MARA", "Go."), Dialogue("TOM", "No."), Dialogue("MARA", "Please go now."), Dialogue("TOM", "Fine.")]
    shots = draft_shots(make_scene("INT. ROOM - DAY", None, lines), CAST, new_location=False)
    assert sizes(shots) == [ShotSize.ots, ShotSize.ots, ShotSize.cu, ShotSize.cu]
    assert shots[0].characters == ("MARA", "TOM") and shots[1].characters == ("TOM", "MARA")
    assert shots[2].dialogue == "MARA: Please go now."


def test_monologue_is_one_mcu_per_run_of_lines():
    lines = [Dialogue("MARA", "One two three four five."), Dialogue("MARA", "Six seven eight nine ten.")]
    shots = draft_shots(make_scene("INT. ROOM - DAY", None, lines), CAST, new_location=False)
    assert sizes(shots) == [ShotSize.mcu]
    assert shots[0].duration == 4.0  # ten words at 2.5 words a second


def test_dual_dialogue_is_a_two_shot():
    lines = [Dialogue("MARA", "Now!", dual=True), Dialogue("TOM", "Now!", dual=True)]
    shots = draft_shots(make_scene("INT. ROOM - DAY", None, lines), CAST, new_location=False)
    assert sizes(shots) == [ShotSize.two_shot]
    assert shots[0].characters == ("MARA", "TOM")


def test_insert_and_pov():
    insert = make_scene("INSERT - THE LOGBOOK", None, [Action("A date, circled twice.")])
    assert sizes(draft_shots(insert, CAST, new_location=True)) == [ShotSize.insert]
    pov = make_scene("EXT. SEA - NIGHT", None, [Action("Mara lifts the glass."), Action("MARA'S POV - a ship's lights, far out.")])
    assert sizes(draft_shots(pov, CAST, new_location=False)) == [ShotSize.ms, ShotSize.pov]


def test_an_empty_scene_still_gets_a_shot():
    shots = draft_shots(make_scene("EXT. SKY - DAY", None, []), CAST, new_location=False)
    assert sizes(shots) == [ShotSize.ws] and shots[0].action == "EXT. SKY - DAY"


def test_running_action_is_handheld():
    shots = draft_shots(make_scene("EXT. PIER - DAY", None, [Action("Tom runs the length of the pier.")]), CAST, False)
    assert shots[0].movement is Movement.handheld


def test_a_very_long_speech_stays_within_the_shot_limit():
    speech = Dialogue("MARA", "word " * 2000)
    shots = draft_shots(make_scene("INT. ROOM - DAY", None, [speech]), CAST, new_location=False)
    assert shots[0].duration == 600.0
