"""`previz export boards|shotlist|deck` and `previz deck`, run in-process, outputs read back."""

import csv
import json
import os
import signal

import pytest
from PIL import Image
from pptx import Presentation
from pypdf import PdfReader

from previz_app.cli import export as cli_export
from previz_app.export import shotlist
from previz_app.store import open_project, shots
from tests.animatic.heroes import give_heroes
from tests.cli.runner import run

# Money that does not add up: lines 2.4 M against a 2.5 M total, financing 2.125 M,
# and a comparable forty times the budget.
INCONSISTENT = {
    "title": "Two Rooms",
    "logline": "A keeper comes home to a house that kept the lamp lit.",
    "synopsis": "Ella waits; Tom returns; the lighthouse stands.",
    "currency": "USD",
    "budget_total": 2_500_000,
    "budget_lines": [{"category": "Above the line", "amount": 900_000},
                     {"category": "Below the line", "amount": 1_500_000}],
    "financing": [{"name": "Regional fund", "amount": 1_125_000, "secured": True},
                  {"name": "Pre-sales", "amount": 1_000_000, "secured": False}],
    "comparables": [{"title": "Big Storm", "year": 2019, "budget": 100_000_000, "gross": 250_000_000,
                     "source": "The Numbers", "retrieved": "2024-05-01"}],
    "team": [{"name": "Ana Ruiz", "role": "Director", "bio": "Two shorts at Clermont-Ferrand."}],
}


@pytest.fixture
def project(drafted):
    """The drafted two-scene project (four shots) with hero frames, closed for the CLI."""
    give_heroes(drafted)
    numbers = [shot.number for shot in shots.list_shots(drafted.db)]
    path = drafted.path
    drafted.close()
    return path, numbers


def write_json(path, data):
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def dump(capsys, path):
    code, out, _ = run(capsys, "deck", path, "--dump")
    assert code == 0
    return json.loads(out)


def test_shotlist_rows_in_film_order(capsys, project, tmp_path):
    path, numbers = project
    out = tmp_path / "shots.csv"
    code, stdout, _ = run(capsys, "export", "shotlist", path, "--out", out)
    assert code == 0 and stdout.splitlines() == ["4 shots", f"wrote   {out}"]
    with open(out, encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["Shot"] for row in rows] == numbers and all(row["Hero file"] for row in rows)
    code, stdout, _ = run(capsys, "export", "shotlist", path, "--out", tmp_path / "scene2.xlsx", "--scene", "2")
    assert code == 0 and stdout.startswith("1 shot\n") and (tmp_path / "scene2.xlsx").is_file()


@pytest.mark.parametrize("what", ["shotlist", "boards"])
def test_an_unknown_scene_is_a_clear_error(capsys, project, tmp_path, what):
    path, _ = project
    out = tmp_path / ("out.pdf" if what == "boards" else "out.csv")
    code, stdout, err = run(capsys, "export", what, path, "--out", out, "--scene", "9")
    assert code == 1 and "previz: error: no scene 9; scenes are 1 to 2" in err and stdout == ""
    assert list(tmp_path.glob("out*")) == []


def test_ctrl_c_cancels_an_export_and_leaves_nothing(capsys, project, tmp_path, monkeypatch):
    real = shotlist.format_timecode

    def interrupted(*args):  # the user presses Ctrl-C while the list is being made
        os.kill(os.getpid(), signal.SIGINT)
        return real(*args)

    monkeypatch.setattr(shotlist, "format_timecode", interrupted)
    code, _, err = run(capsys, "export", "shotlist", project[0], "--out", tmp_path / "shots.csv")
    assert code == 130 and "cancelled; nothing was written" in err
    assert list(tmp_path.glob("*shots.csv*")) == []
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # Ctrl-C works again afterwards


def test_deck_load_prints_the_money_checks_and_dump_round_trips(capsys, project, tmp_path):
    path, _ = project
    code, out, err = run(capsys, "deck", path, "--load", write_json(tmp_path / "deck.json", INCONSISTENT))
    assert code == 0
    assert "Pitch deck: Two Rooms" in out and "Financing secured: 45% of USD 2,500,000" in out
    assert "budget     USD 2,500,000 (2 lines adding up to USD 2,400,000)" in out
    warnings = err.splitlines()
    assert warnings[0].startswith("warning: Comparable titles: Big Storm: its budget")
    assert "warning: Budget: the budget lines add up to USD 2,400,000, USD 100,000 short of the total" in err
    assert "warning: Financing plan: the financing sources add up to USD 2,125,000" in err
    stored = dump(capsys, path)
    assert stored["budget_total"] == 2_500_000 and stored["financing"][0] == {
        "name": "Regional fund", "amount": 1_125_000, "secured": True}
    # What --dump prints, --load takes back unchanged.
    assert run(capsys, "deck", path, "--load", write_json(tmp_path / "again.json", stored))[0] == 0
    assert dump(capsys, path) == stored


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"title": "X",', "not valid JSON: Expecting property name enclosed in double quotes at line 1, column 15"),
        ('{"budget_total": "lots"}', "deck budget_total:"),
        ('{"financing": [{"name": "Fund"}]}', "deck financing:"),
        ('{"budgett": 5}', "unknown deck field(s): budgett"),
        ('{"key_art_take_id": 999}', "key art: no take 999"),
        ('{"sequence_shot_ids": [1, 77]}', "key sequences: no shot 77"),
    ],
)
def test_a_bad_deck_file_names_the_problem_and_changes_nothing(capsys, project, tmp_path, text, message):
    path, _ = project
    run(capsys, "deck", path, "--load", write_json(tmp_path / "good.json", INCONSISTENT))
    before = dump(capsys, path)
    bad = tmp_path / "bad.json"
    bad.write_text(text, encoding="utf-8")
    code, out, err = run(capsys, "deck", path, "--load", bad)
    assert code == 1 and message in err and err.startswith("previz: error: ") and out == ""
    assert dump(capsys, path) == before


def test_deck_refuses_load_and_dump_together(capsys, project, tmp_path):
    code, _, err = run(capsys, "deck", project[0], "--dump", "--load", write_json(tmp_path / "d.json", INCONSISTENT))
    assert code == 2 and "not both" in err


def test_an_empty_deck_summary_lists_what_is_missing(capsys, project):
    code, out, err = run(capsys, "deck", project[0])
    assert code == 0 and err == ""
    assert "Pitch deck: Film" in out and "1 of 14 filled" in out and "Financing secured" not in out


def test_deck_exports_pptx_and_pdf_with_warnings(capsys, project, tmp_path):
    path, _ = project
    run(capsys, "deck", path, "--load", write_json(tmp_path / "deck.json", INCONSISTENT))
    pages = {}
    for suffix in ("pptx", "pdf"):
        out = tmp_path / f"pitch.{suffix}"
        code, stdout, err = run(capsys, "export", "deck", path, "--out", out)
        assert code == 0, err
        assert f"wrote   {out}" in stdout and "Financing secured: 45% of USD 2,500,000" in stdout
        assert "left out (empty): " in stdout and "Director's statement" in stdout and "Characters" in stdout
        assert "warning: Budget: the budget lines add up to USD 2,400,000" in err
        assert "warning: Financing plan:" in err and "warning: Comparable titles: Big Storm" in err
        pages[suffix] = int(stdout.split(" page")[0].rsplit("\n", 1)[-1])
    assert len(Presentation(str(tmp_path / "pitch.pptx")).slides) == pages["pptx"] > 1
    assert len(PdfReader(tmp_path / "pitch.pdf").pages) == pages["pdf"] == pages["pptx"]


@pytest.mark.parametrize(("secured", "share"), [(2_495_000, "99.8%"), (500, "under 0.1%"), (1_250_000, "50%")])
def test_the_secured_share_is_never_rounded_to_all_or_nothing(capsys, project, tmp_path, monkeypatch, secured, share):
    path, _ = project
    financing = [{"name": "Fund", "amount": secured, "secured": True},
                 {"name": "Pre-sales", "amount": 2_500_000 - secured, "secured": False}]
    run(capsys, "deck", path, "--load", write_json(tmp_path / "deck.json", {**INCONSISTENT, "financing": financing}))
    code, out, _ = run(capsys, "deck", path)
    assert code == 0 and f"Financing secured: {share} of USD 2,500,000" in out

    def no_second_read(_db):
        raise AssertionError("`export deck` read the deck again; the report has its money")

    monkeypatch.setattr(cli_export, "read_deck", no_second_read)
    code, out, err = run(capsys, "export", "deck", path, "--out", tmp_path / "deck.pdf")
    assert code == 0, err
    assert f"Financing secured: {share} of USD 2,500,000" in out


@pytest.mark.parametrize(
    ("args", "pages"),
    # Each scene starts a page: scene 1 has three shots, scene 2 one.
    [([], 2), (["--layout", "1"], 4), (["--layout", "2x1"], 3), (["--layout", "1", "--scene", "2"], 1),
     (["--layout", "1", "--scene", "1", "--paper", "letter", "--orientation", "portrait", "--no-action",
       "--no-dialogue", "--watermark", "--dpi", "72"], 3)],
)
def test_boards_pdf_pages_follow_layout_and_scenes(capsys, project, tmp_path, args, pages):
    out = tmp_path / "boards.pdf"
    code, stdout, err = run(capsys, "export", "boards", project[0], "--out", out, "--dpi", "100", *args)
    assert code == 0, err
    assert len(PdfReader(out).pages) == pages
    assert f"on {pages} page" in stdout and f"wrote   {out}" in stdout


def test_boards_caption_fields_can_be_turned_off(capsys, project, tmp_path):
    texts = {}
    for name, flags in (("all", []), ("bare", ["--no-action", "--no-camera", "--no-duration"])):
        out = tmp_path / f"{name}.pdf"
        assert run(capsys, "export", "boards", project[0], "--out", out, "--dpi", "72", *flags)[0] == 0
        texts[name] = " ".join(PdfReader(out).pages[0].extract_text().split())
    assert "ELLA pours tea" in texts["all"] and "3.0 s" in texts["all"] and "WS" in texts["all"]
    assert "ELLA pours tea" not in texts["bare"] and "3.0 s" not in texts["bare"]
    assert "You came back" in texts["bare"]  # dialogue stays on


def test_boards_png_contact_sheets(capsys, project, tmp_path):
    code, stdout, err = run(capsys, "export", "boards", project[0], "--out", tmp_path / "sheet.png", "--layout", "2",
                            "--dpi", "72")
    assert code == 0, err
    assert sorted(path.name for path in tmp_path.glob("sheet*.png")) == ["sheet-01.png", "sheet-02.png", "sheet-03.png"]
    assert stdout.count("wrote   ") == 3 and "4 shots on 3 pages" in stdout
    with Image.open(tmp_path / "sheet-01.png") as sheet:
        assert sheet.format == "PNG" and sheet.width > sheet.height  # landscape A4 by default


def test_boards_refuse_a_bad_layout(capsys, project, tmp_path):
    code, _, err = run(capsys, "export", "boards", project[0], "--out", tmp_path / "b.pdf", "--layout", "7x0")
    assert code != 0 and "layout" in err.lower()
    assert not (tmp_path / "b.pdf").exists()
    with open_project(project[0]):
        pass  # the project is closed and still opens
