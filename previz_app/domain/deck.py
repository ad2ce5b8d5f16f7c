"""The pitch deck as values, and the checks a financier makes of its money.

A deck is what a producer takes into a financing meeting: title and key art, logline,
synopsis, statements, a mood board, characters and cast, key sequences, comparable
titles, budget top sheet, financing plan, schedule, team and contact. Images are takes
of the project (by id); key sequences are shots (by id). Money is in whole units of
the deck's currency.
"""

from __future__ import annotations

from dataclasses import MISSING, dataclass, fields
from enum import StrEnum
from typing import Any

# A comparable title whose budget is more than this many times larger or smaller than
# the project's is not a comparable a financier will accept.
COMPARABLE_BUDGET_RANGE = 4.0
MAX_AMOUNT = 10**13  # money fields: whole currency units, below ten trillion


class CastStatus(StrEnum):
    attached = "attached"
    wishlist = "wishlist"


@dataclass(frozen=True, slots=True)
class DeckCharacter:
    name: str
    description: str = ""
    cast: str = ""  # the actor: attached to the project, or a wish
    status: CastStatus = CastStatus.wishlist
    image_take_id: int | None = None


@dataclass(frozen=True, slots=True)
class Comparable:
    title: str
    year: int | None = None
    budget: int | None = None
    gross: int | None = None  # worldwide box office
    source: str = ""  # where the figures come from
    retrieved: str = ""  # when they were read there, ISO date


@dataclass(frozen=True, slots=True)
class BudgetLine:
    category: str
    amount: int


@dataclass(frozen=True, slots=True)
class FinancingSource:
    name: str
    amount: int
    secured: bool = False


@dataclass(frozen=True, slots=True)
class ScheduleItem:
    phase: str
    start: str = ""
    end: str = ""


@dataclass(frozen=True, slots=True)
class TeamMember:
    name: str
    role: str = ""
    bio: str = ""


@dataclass(frozen=True, slots=True)
class Deck:
    """Everything a pitch deck says. An empty text or list is a section left out."""

    title: str = ""  # empty: the project's title
    key_art_take_id: int | None = None
    logline: str = ""
    synopsis: str = ""
    director_statement: str = ""
    producer_statement: str = ""
    tone: str = ""  # words for the tone and look, beside the mood board
    mood_take_ids: tuple[int, ...] = ()
    characters: tuple[DeckCharacter, ...] = ()
    sequence_shot_ids: tuple[int, ...] = ()
    comparables: tuple[Comparable, ...] = ()
    currency: str = "USD"
    budget_total: int | None = None  # the stated total; None: the lines' sum
    budget_lines: tuple[BudgetLine, ...] = ()
    financing: tuple[FinancingSource, ...] = ()
    schedule: tuple[ScheduleItem, ...] = ()
    team: tuple[TeamMember, ...] = ()
    contact: str = ""

    def budget(self) -> int | None:
        """The project's budget: the stated total, else the lines' sum, else None."""
        if self.budget_total is not None:
            return self.budget_total
        return sum(line.amount for line in self.budget_lines) if self.budget_lines else None


@dataclass(frozen=True, slots=True)
class MoneySummary:
    """The deck's money in one place, as the budget and financing pages show it."""

    budget: int | None
    lines_total: int
    financing_total: int
    secured_total: int

    @property
    def secured_share(self) -> float | None:
        """Secured financing as a share (0..) of the budget; None without a budget."""
        return self.secured_total / self.budget if self.budget else None


@dataclass(frozen=True, slots=True)
class DeckWarning:
    section: str  # a key of SECTIONS
    message: str


SECTIONS = {
    "title": "Title and key art",
    "logline": "Logline",
    "synopsis": "Synopsis",
    "director_statement": "Director's statement",
    "producer_statement": "Producer's statement",
    "tone": "Tone and look",
    "characters": "Characters",
    "sequences": "Key sequences",
    "comparables": "Comparable titles",
    "budget": "Budget",
    "financing": "Financing plan",
    "schedule": "Schedule",
    "team": "Team",
    "contact": "Contact",
}


def money_summary(deck: Deck) -> MoneySummary:
    """Budget, budget lines' sum, financing and its secured part of `deck`."""
    return MoneySummary(
        budget=deck.budget(),
        lines_total=sum(line.amount for line in deck.budget_lines),
        financing_total=sum(source.amount for source in deck.financing),
        secured_total=sum(source.amount for source in deck.financing if source.secured),
    )


def format_money(amount: int | None, currency: str) -> str:
    """`1234567, "USD"` -> "USD 1,234,567"; None -> "—"."""
    return "—" if amount is None else f"{currency} {amount:,}".strip()


def format_share(share: float | None) -> str:
    """A share as a percentage a financier can trust: whole percents, but never a
    rounded "100%" for money not all secured, nor "0%" for some secured."""
    if share is None:
        return "—"
    text = f"{share:.0%}"
    if text in ("0%", "100%") and share not in (0, 1):
        text = f"{share:.1%}"
        if text in ("0.0%", "100.0%"):
            text = "under 0.1%" if share < 0.5 else "over 99.9%"
    return text


def validate_deck(deck: Deck) -> None:
    """Raise ValueError naming the first amount outside 0..MAX_AMOUNT (a deck built in
    code, not read by `deck_from_dict`, is checked here before it is stored)."""
    amounts = [("budget total", deck.budget_total)]
    amounts += [(f"budget line {line.category!r}", line.amount) for line in deck.budget_lines]
    amounts += [(f"financing source {source.name!r}", source.amount) for source in deck.financing]
    amounts += [(f"comparable {item.title!r} budget", item.budget) for item in deck.comparables]
    amounts += [(f"comparable {item.title!r} gross", item.gross) for item in deck.comparables]
    for what, amount in amounts:
        if amount is not None and (isinstance(amount, bool) or not isinstance(amount, int) or not 0 <= amount < MAX_AMOUNT):
            raise ValueError(f"{what}: an amount must be a whole number from 0 to {MAX_AMOUNT:,}, not {amount!r}")


def check_deck(deck: Deck) -> list[DeckWarning]:
    """What a financier would question in `deck`, in page order: budget lines that
    do not add up to the stated total, financing that does not add up to the budget,
    comparable titles whose budget is far outside the project's."""
    warnings: list[DeckWarning] = []
    money = money_summary(deck)
    budget = money.budget
    if budget is not None:
        for comparable in deck.comparables:
            if comparable.budget and budget > 0:
                ratio = comparable.budget / budget
                if not 1 / COMPARABLE_BUDGET_RANGE <= ratio <= COMPARABLE_BUDGET_RANGE:
                    size = "larger" if ratio > 1 else "smaller"
                    times = ratio if ratio > 1 else 1 / ratio
                    warnings.append(DeckWarning("comparables", (
                        f"{comparable.title}: its budget ({format_money(comparable.budget, deck.currency)}) is "
                        f"{times:.1f}× {size} than this film's ({format_money(budget, deck.currency)}); "
                        f"financiers expect comparables within {COMPARABLE_BUDGET_RANGE:g}×")))
    if deck.budget_total is not None and deck.budget_lines and money.lines_total != deck.budget_total:
        gap = money.lines_total - deck.budget_total
        warnings.append(DeckWarning("budget", (
            f"the budget lines add up to {format_money(money.lines_total, deck.currency)}, "
            f"{format_money(abs(gap), deck.currency)} {'over' if gap > 0 else 'short of'} the total "
            f"of {format_money(deck.budget_total, deck.currency)}")))
    if deck.financing:
        if budget is None:
            warnings.append(DeckWarning("financing", "there is a financing plan but no budget to finance"))
        elif money.financing_total != budget:
            gap = money.financing_total - budget
            warnings.append(DeckWarning("financing", (
                f"the financing sources add up to {format_money(money.financing_total, deck.currency)}, "
                f"{format_money(abs(gap), deck.currency)} {'over' if gap > 0 else 'short of'} the budget "
                f"of {format_money(budget, deck.currency)}")))
    return warnings


def deck_to_dict(deck: Deck) -> dict[str, Any]:
    """`deck` as plain JSON-ready values (the inverse of `deck_from_dict`)."""
    out: dict[str, Any] = {}
    for item in fields(Deck):
        value = getattr(deck, item.name)
        if isinstance(value, tuple):
            value = [_plain(entry) for entry in value]
        out[item.name] = value
    return out


def deck_from_dict(data: dict[str, Any]) -> Deck:
    """A Deck from `deck_to_dict`'s output (or JSON a user wrote). Unknown keys are an
    error. Raises ValueError naming the field for a wrong type or a bad amount."""
    if not isinstance(data, dict):
        raise ValueError("a deck is a JSON object")
    known = {item.name for item in fields(Deck)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ValueError(f"unknown deck field(s): {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    values: dict[str, Any] = {}
    for name, raw in data.items():
        try:
            values[name] = _READERS[name](raw)
        except (TypeError, ValueError, KeyError) as exc:
            raise ValueError(f"deck {name}: {exc}") from None
    return Deck(**values)


def _plain(entry: Any) -> Any:
    if hasattr(entry, "__dataclass_fields__"):
        return {item.name: (str(value) if isinstance(value := getattr(entry, item.name), StrEnum) else value)
                for item in fields(entry)}
    return entry


def _text(value: Any) -> str:
    if value is None:
        return ""
    if not isinstance(value, (str, int, float)):
        raise ValueError(f"expected text, got {type(value).__name__}")
    return str(value)


def _optional_int(value: Any) -> int | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise ValueError("expected a number, got true/false")
    if isinstance(value, str):
        value = value.replace(",", "").strip()
    try:
        number = int(value)
    except OverflowError:
        raise ValueError(f"expected a whole number, got {value}") from None
    if isinstance(value, float) and value != number:
        raise ValueError(f"expected a whole number, got {value}")
    return number


def _amount(value: Any) -> int | None:
    number = _optional_int(value)
    if number is not None and not 0 <= number < MAX_AMOUNT:
        raise ValueError(f"an amount must be between 0 and {MAX_AMOUNT:,}, not {number:,}")
    return number


def _required_amount(value: Any) -> int:
    number = _amount(value)
    if number is None:
        raise ValueError("an amount is required")
    return number


def _flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in {"yes", "true", "secured", "1"}:
        return True
    if isinstance(value, str) and value.strip().lower() in {"no", "false", "", "0"}:
        return False
    raise ValueError(f"expected true or false, got {value!r}")


def _ids(value: Any) -> tuple[int, ...]:
    ids = tuple(_optional_int(item) for item in (value or ()))
    if None in ids:
        raise ValueError("expected a list of ids, found an empty one")
    return ids


def _entries(cls: type, readers: dict[str, Any]):
    def read(value: Any) -> tuple:
        entries = []
        for raw in value or ():
            if not isinstance(raw, dict):
                raise ValueError(f"expected an object per {cls.__name__}, got {type(raw).__name__}")
            unknown = sorted(set(raw) - set(readers))
            if unknown:
                raise ValueError(f"unknown {cls.__name__} field(s): {', '.join(unknown)}")
            required = [item.name for item in fields(cls) if item.name not in raw and item.default is MISSING]
            if required:
                raise ValueError(f"each {cls.__name__} needs {' and '.join(required)}")
            entries.append(cls(**{name: readers[name](item) for name, item in raw.items()}))
        return tuple(entries)

    return read


_READERS: dict[str, Any] = {
    "title": _text,
    "key_art_take_id": _optional_int,
    "logline": _text,
    "synopsis": _text,
    "director_statement": _text,
    "producer_statement": _text,
    "tone": _text,
    "mood_take_ids": _ids,
    "characters": _entries(DeckCharacter, {
        "name": _text, "description": _text, "cast": _text,
        "status": lambda v: CastStatus(str(v or "wishlist").strip().lower()), "image_take_id": _optional_int}),
    "sequence_shot_ids": _ids,
    "comparables": _entries(Comparable, {
        "title": _text, "year": _optional_int, "budget": _amount, "gross": _amount, "source": _text, "retrieved": _text}),
    "currency": lambda v: _text(v).strip().upper() or "USD",
    "budget_total": _amount,
    "budget_lines": _entries(BudgetLine, {"category": _text, "amount": _required_amount}),
    "financing": _entries(FinancingSource, {"name": _text, "amount": _required_amount, "secured": _flag}),
    "schedule": _entries(ScheduleItem, {"phase": _text, "start": _text, "end": _text}),
    "team": _entries(TeamMember, {"name": _text, "role": _text, "bio": _text}),
    "contact": _text,
}


def empty_sections(deck: Deck) -> list[str]:
    """Keys of SECTIONS that `deck` leaves empty (they are omitted from the deck)."""
    filled = {
        "title": True,  # the title page always prints (the project's title at least)
        "logline": bool(deck.logline.strip()),
        "synopsis": bool(deck.synopsis.strip()),
        "director_statement": bool(deck.director_statement.strip()),
        "producer_statement": bool(deck.producer_statement.strip()),
        "tone": bool(deck.tone.strip() or deck.mood_take_ids),
        "characters": bool(deck.characters),
        "sequences": bool(deck.sequence_shot_ids),
        "comparables": bool(deck.comparables),
        "budget": bool(deck.budget_lines or deck.budget_total is not None),
        "financing": bool(deck.financing),
        "schedule": bool(deck.schedule),
        "team": bool(deck.team),
        "contact": bool(deck.contact.strip()),
    }
    return [key for key in SECTIONS if not filled[key]]

