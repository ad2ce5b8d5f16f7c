"""The columns of the pitch deck's list tables and how a typed cell becomes a value:
money amounts (whole units, thousands separators allowed), years, text."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..domain.deck import (
    MAX_AMOUNT,
    BudgetLine,
    Comparable,
    DeckCharacter,
    FinancingSource,
    ScheduleItem,
    TeamMember,
)

STRETCH_MIN = 150  # pixels, a text column's width unless it says
_DIGITS = re.compile(r"\d+")
# What people type between thousands: "1,250,000", "1 250 000", "1_250_000", "1'250'000".
_SEPARATORS = re.compile(r"[,\s_'\u00a0\u202f]")


def parse_amount(text: str, required: bool = True) -> int | None:
    """A money amount typed by a user: a whole number of currency units, thousands
    separators allowed. Empty gives None unless `required`. Raises ValueError saying
    what is accepted."""
    plain = _SEPARATORS.sub("", text.strip())
    if not plain:
        if required:
            raise ValueError("an amount is required, a whole number like 1,250,000")
        return None
    if not _DIGITS.fullmatch(plain):
        raise ValueError(f"{text.strip()!r} is not a whole number of currency units; write it like 1,250,000")
    number = int(plain)
    if number >= MAX_AMOUNT:
        raise ValueError(f"{number:,} is more than the largest amount a deck takes ({MAX_AMOUNT - 1:,})")
    return number


def parse_year(text: str) -> int | None:
    """A release year, or None for an empty cell. Raises ValueError otherwise."""
    plain = text.strip()
    if not plain:
        return None
    if not _DIGITS.fullmatch(plain) or not 1880 <= int(plain) <= 2200:
        raise ValueError(f"{plain!r} is not a year; write it like 2019")
    return int(plain)


def format_amount(amount: int | None) -> str:
    return "" if amount is None else f"{amount:,}"


@dataclass(frozen=True)
class Column:
    header: str
    field: str
    kind: str = "text"  # text | date (text that keeps its width) | amount | optional_amount | year | check | status | image
    width: int = 0  # pixels, 0 for STRETCH_MIN; a text column takes a share of spare room, or gives way


CHARACTER_COLUMNS = (
    Column("Name", "name", width=120), Column("Cast", "cast", width=120), Column("Status", "status", "status", 96),
    Column("Description", "description", width=220), Column("Image", "image_take_id", "image", 76),
)
COMPARABLE_COLUMNS = (
    Column("Title", "title"), Column("Year", "year", "year", 50),
    Column("Budget", "budget", "optional_amount", 100), Column("Gross", "gross", "optional_amount", 100),
    Column("Source", "source"), Column("Retrieved", "retrieved", "date", 90),
)
BUDGET_COLUMNS = (Column("Category", "category"), Column("Amount", "amount", "amount", 130))
FINANCING_COLUMNS = (
    Column("Source", "name"), Column("Amount", "amount", "amount", 130), Column("Secured", "secured", "check", 70),
)
SCHEDULE_COLUMNS = (Column("Phase", "phase"), Column("Start", "start", "date", 110), Column("End", "end", "date", 110))
TEAM_COLUMNS = (Column("Name", "name", width=140), Column("Role", "role", width=140), Column("Bio", "bio"))

NEW_ENTRIES: dict[type, Callable[[], Any]] = {
    DeckCharacter: lambda: DeckCharacter(""),
    Comparable: lambda: Comparable(""),
    BudgetLine: lambda: BudgetLine("", 0),
    FinancingSource: lambda: FinancingSource("", 0),
    ScheduleItem: lambda: ScheduleItem(""),
    TeamMember: lambda: TeamMember(""),
}


def cell_value(column: Column, text: str) -> Any:
    if column.kind == "amount":
        return parse_amount(text)
    if column.kind == "optional_amount":
        return parse_amount(text, required=False)
    if column.kind == "year":
        return parse_year(text)
    return text.strip()


def cell_text(column: Column, value: Any) -> str:
    if column.kind in ("amount", "optional_amount"):
        return format_amount(value)
    if column.kind == "year":
        return "" if value is None else str(value)
    if column.kind == "image":
        return "—" if value is None else f"take {value}"
    return "" if value is None else str(value)
