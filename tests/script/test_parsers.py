"""Fountain and Final Draft, including the awkward corners writers use."""

import pytest

from previz_app.domain.vocabulary import IntExt, TimeOfDay
from previz_app.script import ScriptError
from previz_app.script.document import Action, Dialogue, Transition, parse_heading
from previz_app.script.fdx import parse_fdx
from previz_app.script.fountain import parse_fountain
from previz_app.script.importer import read_script


@pytest.mark.parametrize(
    "heading, expected",
    [
        ("INT. LIGHTHOUSE KITCHEN - NIGHT", (IntExt.interior, "LIGHTHOUSE KITCHEN", TimeOfDay.night)),
        ("ext. cliff path -- dawn", (IntExt.exterior, "CLIFF PATH", TimeOfDay.dawn)),
        ("INT./EXT. TRUCK - DUSK", (IntExt.interior_exterior, "TRUCK", TimeOfDay.dusk)),
        ("I/E. CAR - MOVING - NIGHT", (IntExt.interior_exterior, "CAR - MOVING", TimeOfDay.night)),
        ("EXT. PIER - MOMENTS LATER", (IntExt.exterior, "PIER", TimeOfDay.later)),
        ("UNDERWATER", (IntExt.unspecified, "UNDERWATER", TimeOfDay.unspecified)),
        ("INTERROGATION ROOM", (IntExt.unspecified, "INTERROGATION ROOM", TimeOfDay.unspecified)),
    ],
)
def test_heading(heading, expected):
    assert parse_heading(heading) == expected


def test_nasty_fountain(data_dir):
    doc = read_script(data_dir / "nasty.fountain")
    assert doc.title == ""  # no title page
    headings = [s.heading for s in doc.scenes]
    # boneyard dropped; lowercase and forced headings found; scene number read
    assert headings == [
        "INT. ALL-NIGHT DINER - NIGHT",
        "EXT. DINER PARKING LOT - CONTINUOUS",
        "INSERT - THE NAPKIN",
        "I/E. JO'S CAR - MOVING - NIGHT",
    ]
    assert [s.number for s in doc.scenes] == [None, "12A", None, None]
    diner = doc.scenes[0]
    assert diner.elements[0] == Action("Rain streaks the window. SAM (30s) and JO (30s) share a booth.")
    assert diner.elements[1] == Dialogue("SAM", "You came.", parenthetical="(quietly)")
    duals = [e for e in diner.elements if isinstance(e, Dialogue) and e.dual]
    assert [(d.character, d.text) for d in duals] == [("JO", "And you remember all of them."), ("SAM", "I do.")]
    assert diner.characters == ("SAM", "JO")
    car = doc.scenes[3]
    assert car.elements == (Dialogue("JO", "Don't call it.", extension="V.O."),)
    assert "note to self" not in diner.text


def test_crlf_and_title_page(data_dir):
    doc = read_script(data_dir / "crlf.fountain")
    assert (doc.title, doc.author) == ("Crlf Story", "Someone")
    assert [s.location for s in doc.scenes] == ["FIELD", "BARN"]
    assert doc.scenes[1].elements == (Dialogue("ANNA", "Who is there?"),)


def test_multiline_title_and_transitions():
    text = "Title:\n    _THE_\n    **LONG NIGHT**\nCredit: by\n\nEXT. ROAD - NIGHT\n\nHeadlights.\n\nCUT TO:\n\nINT. CAR - NIGHT\n\nSilence.\n"
    doc = parse_fountain(text)
    assert doc.title == "THE LONG NIGHT"
    assert doc.scenes[0].elements == (Action("Headlights."), Transition("CUT TO:"))


def test_fdx_sample(data_dir):
    doc = read_script(data_dir / "sample.fdx")
    assert (doc.title, doc.author) == ("THE MAP", "R. Writer")
    attic, garden = doc.scenes
    assert (attic.number, attic.location, attic.time_of_day) == ("1", "ATTIC", TimeOfDay.night)
    assert attic.synopsis == "Ada finds the map."
    assert attic.elements == (
        Action("Dust in a torch beam. ADA (12) lifts a rolled map."),
        Dialogue("ADA", "Found you.", parenthetical="(whispering)"),
        Transition("CUT TO:"),
    )
    assert garden.elements == (
        Dialogue("ADA", "Look!", dual=True),
        Dialogue("BEN", "What?", extension="O.S.", dual=True),
    )


def test_truncated_fdx(data_dir):
    text = (data_dir / "sample.fdx").read_text()
    with pytest.raises(ScriptError, match=r"not a complete Final Draft file: the XML breaks at line \d+"):
        parse_fdx(text[: len(text) // 2], "cut.fdx")


def test_xml_that_is_not_final_draft():
    with pytest.raises(ScriptError, match=r"XML but not a Final Draft document \(root <svg>\)"):
        parse_fdx("<svg><g/></svg>", "logo.fdx")
    with pytest.raises(ScriptError, match="no scene headings found"):
        parse_fdx("<FinalDraft><Content/></FinalDraft>", "blank.fdx")


def test_fdx_numbers_are_trimmed_and_empty_headings_skipped():
    text = ('<FinalDraft><Content><Paragraph Type="Scene Heading" Number=" 7 "><Text>INT. A - DAY</Text></Paragraph>'
            '<Paragraph Type="Action"><Text>One.</Text></Paragraph>'
            '<Paragraph Type="Scene Heading"><Text>  </Text></Paragraph>'
            '<Paragraph Type="Action"><Text>Two.</Text></Paragraph></Content></FinalDraft>')
    (scene,) = parse_fdx(text).scenes
    assert scene.number == "7" and scene.elements == (Action("One."), Action("Two."))
