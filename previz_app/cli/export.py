"""`previz export boards|shotlist|deck` and `previz deck`: what goes to the crew and the money.

The export modules are imported inside the commands: reportlab and python-pptx take a
while to load, and `previz --help` should not wait for them.
"""

from __future__ import annotations

import json
import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from ..domain.deck import (
    SECTIONS,
    Deck,
    DeckWarning,
    MoneySummary,
    check_deck,
    deck_from_dict,
    deck_to_dict,
    empty_sections,
    format_money,
    format_share,
    money_summary,
)
from ..engine.base import Cancelled
from ..store import ProjectFolder, open_project, settings
from ..store.deck import read_deck, write_deck
from . import _emit_json, cli

SCENES_HELP = 'Scenes to include: "3", a range by film order "3-7", or a list "2,5,9-11" (default: the whole film).'


def run_export(folder: ProjectFolder, label: str, export: Callable[..., Any], request: Any) -> Any:
    """Run `export(db, media, request, progress, cancelled)` with a progress bar on
    stderr; Ctrl-C cancels it, says nothing was written and exits 130."""
    stop = threading.Event()
    previous = signal.signal(signal.SIGINT, lambda *_args: stop.set())
    try:
        with click.progressbar(length=1, label=label, show_pos=True, file=sys.stderr) as bar:
            def progress(done: int, total: int) -> None:
                bar.length = total
                bar.update(done - bar.pos)

            return export(folder.db, folder.media, request, progress, stop.is_set)
    except Cancelled:
        click.echo("previz: cancelled; nothing was written", err=True)
        sys.exit(130)
    finally:
        signal.signal(signal.SIGINT, previous)


@cli.group("export")
def export_group() -> None:
    """Write storyboard boards (PDF, PNG), shot lists (CSV, XLSX) and the pitch deck (PPTX, PDF).

    Every export is written whole or not at all: a full disk or Ctrl-C leaves no
    partial file and an earlier file of the same name as it was.
    """


@export_group.command("boards")
@click.argument("directory", type=click.Path(path_type=Path))
@click.option("--out", type=click.Path(path_type=Path), required=True,
              help="FILE.pdf (one PDF), or FILE.png (contact sheets FILE-01.png, FILE-02.png ... beside it).")
@click.option("--layout", default="3x2", show_default=True,
              help='Panels per page: COLUMNSxROWS ("3x2") or a count: 1, 2, 3, 4, 6, 9 or 12.')
@click.option("--paper", type=click.Choice(["a4", "letter", "tabloid"], case_sensitive=False), default="a4",
              show_default=True, help="Paper size.")
@click.option("--orientation", type=click.Choice(["landscape", "portrait"], case_sensitive=False),
              default="landscape", show_default=True, help="Page orientation.")
@click.option("--scene", "scenes", default="", help=SCENES_HELP)
@click.option("--number/--no-number", default=True, help="Print the shot number under each panel.")
@click.option("--camera/--no-camera", default=True, help="Print size, angle, movement and lens.")
@click.option("--duration/--no-duration", default=True, help="Print the shot's length in seconds.")
@click.option("--action/--no-action", default=True, help="Print the action.")
@click.option("--dialogue/--no-dialogue", default=True, help="Print the dialogue.")
@click.option("--notes/--no-notes", default=True, help="Print the shot's notes.")
@click.option("--watermark", is_flag=True, help='A diagonal "CONFIDENTIAL" across every page.')
@click.option("--date", default="", help="Date in the page footer (default: today).")
@click.option("--dpi", type=click.IntRange(36, 1200), default=300, show_default=True,
              help="Image resolution: pixels per printed inch (PNG sheets: their density, at most 600).")
def boards_command(directory: Path, out: Path, layout: str, paper: str, orientation: str, scenes: str,
                   number: bool, camera: bool, duration: bool, action: bool, dialogue: bool, notes: bool,
                   watermark: bool, date: str, dpi: int) -> None:
    """Print storyboard pages: each shot's hero frame (or its blocking panel) with a caption.

    Ctrl-C cancels; nothing partial is left behind.
    """
    from ..export.boards import BoardExport, BoardFields, export_boards

    fields = BoardFields(number=number, camera=camera, duration=duration, action=action, dialogue=dialogue, notes=notes)
    request = BoardExport(out=out, layout=layout, paper=paper.lower(), orientation=orientation.lower(), fields=fields,
                          scenes=scenes, watermark=watermark, date=date, dpi=dpi)
    with open_project(directory) as folder:
        report = run_export(folder, "boards", export_boards, request)
    click.echo(f"{_count(report.shots, 'shot')} on {_count(report.pages, 'page')}")
    for path in report.files:
        click.echo(f"wrote   {path}")


@export_group.command("shotlist")
@click.argument("directory", type=click.Path(path_type=Path))
@click.option("--out", type=click.Path(path_type=Path), required=True,
              help="FILE.csv (UTF-8, opens in Excel) or FILE.xlsx.")
@click.option("--scene", "scenes", default="", help=SCENES_HELP)
def shotlist_command(directory: Path, out: Path, scenes: str) -> None:
    """Write the shot list: one row per shot in film order with camera, timing, text and hero frame."""
    from ..export.shotlist import ShotListExport, export_shotlist

    with open_project(directory) as folder:
        report = run_export(folder, "shot list", export_shotlist, ShotListExport(out=out, scenes=scenes))
    click.echo(_count(report.shots, "shot"))
    click.echo(f"wrote   {report.out}")


@export_group.command("deck")
@click.argument("directory", type=click.Path(path_type=Path))
@click.option("--out", type=click.Path(path_type=Path), required=True, help="FILE.pptx (PowerPoint) or FILE.pdf.")
def deck_command(directory: Path, out: Path) -> None:
    """Write the pitch deck (edit it in the app or with `previz deck --load`).

    Empty sections are left out. Money that does not add up is printed as a warning;
    the deck is still written.
    """
    from ..export.deck import DeckExport, export_deck

    with open_project(directory) as folder:
        report = run_export(folder, "deck", export_deck, DeckExport(out=out))
    _warn(report.warnings)
    secured = _secured_line(report.money, report.currency)
    if secured:
        click.echo(secured)
    if report.omitted:
        click.echo("left out (empty): " + ", ".join(SECTIONS[key] for key in report.omitted))
    click.echo(_count(report.pages, "page"))
    click.echo(f"wrote   {report.out}")


@cli.command("deck")
@click.argument("directory", type=click.Path(path_type=Path))
@click.option("--load", "load", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Replace the stored deck with this JSON file (the shape --dump prints).")
@click.option("--dump", is_flag=True, help="Print the stored deck as JSON.")
def deck_summary_command(directory: Path, load: Path | None, dump: bool) -> None:
    """Show the pitch deck and check its money; --load replaces it, --dump prints it as JSON.

    A file that is not a valid deck changes nothing and the error names the field.
    """
    if load is not None and dump:
        raise click.UsageError("pass --load or --dump, not both")
    new = _read_deck_file(load) if load is not None else None  # a bad file fails before the project is opened
    with open_project(directory) as folder:
        if new is not None:
            write_deck(folder.db, new)
        deck = read_deck(folder.db)
        title = settings.read_project(folder.db).title
    if dump:
        _emit_json(deck_to_dict(deck))
        return
    if load is not None:
        click.echo(f"loaded  {load}")
    _summary(deck, title)
    _warn(check_deck(deck))


def _read_deck_file(path: Path) -> Deck:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise ValueError(f"{path}: not UTF-8 text; save the deck as UTF-8 JSON") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}") from None
    try:
        return deck_from_dict(data)
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}; the stored deck is unchanged") from None


def _summary(deck: Deck, project_title: str) -> None:
    money = money_summary(deck)
    empty = empty_sections(deck)
    click.echo(f"Pitch deck: {deck.title or project_title or '(untitled)'}")
    if deck.logline:
        click.echo(f"  logline    {' '.join(deck.logline.split())}")
    click.echo(f"  sections   {len(SECTIONS) - len(empty)} of {len(SECTIONS)} filled"
               + (f"; empty: {', '.join(SECTIONS[key] for key in empty)}" if empty else ""))
    pictures = (deck.key_art_take_id is not None) + len(deck.mood_take_ids)
    click.echo(f"  pictures   {pictures} (key art and mood board), {len(deck.sequence_shot_ids)} key sequence shots")
    click.echo(f"  characters {len(deck.characters)}, comparables {len(deck.comparables)}, team {len(deck.team)}")
    if money.budget is not None:
        lines = f" ({_count(len(deck.budget_lines), 'line')} adding up to {format_money(money.lines_total, deck.currency)})"
        click.echo(f"  budget     {format_money(money.budget, deck.currency)}{lines if deck.budget_lines else ''}")
    if deck.financing:
        click.echo(f"  financing  {format_money(money.financing_total, deck.currency)} in {len(deck.financing)} sources, "
                   f"{format_money(money.secured_total, deck.currency)} secured")
    secured = _secured_line(money, deck.currency)
    if secured:
        click.echo(secured)


def _secured_line(money: MoneySummary, currency: str) -> str:
    """The secured share of the budget in words, e.g. `Financing secured: 45% of USD 2,500,000`;
    empty when there is neither a budget nor financing."""
    if money.secured_share is not None:
        return f"Financing secured: {format_share(money.secured_share)} of {format_money(money.budget, currency)}"
    if money.financing_total:
        return f"Financing secured: {format_money(money.secured_total, currency)} (no budget to measure it against)"
    return ""


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'s' if number != 1 else ''}"


def _warn(warnings: list[DeckWarning] | tuple[DeckWarning, ...]) -> None:
    for warning in warnings:
        click.echo(f"warning: {SECTIONS.get(warning.section, warning.section)}: {warning.message}", err=True)
