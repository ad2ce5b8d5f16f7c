"""`previz models`: the models the user already has, found and classified offline."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import click

from ..engine.discovery.entry import ModelEntry, size_text
from ..engine.discovery.library import ModelLibrary
from . import _emit_json, cli


def _show(entries: list[ModelEntry], as_json: bool) -> None:
    if as_json:
        _emit_json([asdict(e) for e in entries])
        return
    if not entries:
        click.echo("no models found; add a folder with: previz models scan FOLDER")
        return
    for entry in entries:
        what = entry.kind.value + (f" ({entry.control})" if entry.control else "")
        line = f"{what:<22} {entry.family.value:<13} {size_text(entry.size):>9}  {entry.source:<8} {entry.path}"
        click.echo(line + (f"\n{'':<22} error: {entry.error}" if entry.error else ""))
    broken = sum(1 for e in entries if e.error)
    click.echo(f"{len(entries)} model{'s' if len(entries) != 1 else ''}" + (f", {broken} damaged" if broken else ""))


@cli.group()
def models() -> None:
    """Find the models you already have (ComfyUI, AUTOMATIC1111, Hugging Face cache, folders)."""


@models.command("scan")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the entries as JSON.")
def scan_command(paths: tuple[Path, ...], as_json: bool) -> None:
    """Scan the usual model folders plus PATHS (remembered for later scans).

    Reads only each file's header; pickled files (.ckpt, .pt, .bin) are listed, never opened.
    """
    _show(ModelLibrary.for_user().scan(paths), as_json)


@models.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print the entries as JSON.")
def list_command(as_json: bool) -> None:
    """The models found by the last scan (nothing is read from disk)."""
    entries = ModelLibrary.for_user().listed()
    if entries is None:
        raise click.ClickException("no scan yet; run: previz models scan [FOLDER...]")
    _show(entries, as_json)
