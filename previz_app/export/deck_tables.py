"""The deck's pages of figures: comparable titles, budget top sheet, financing plan and
schedule, each a native table (paginated when long) with its summary beside it."""

from __future__ import annotations

from collections.abc import Sequence

from ..domain.deck import SECTIONS, Deck, format_money, format_share, money_summary
from .deck_layout import ACCENT, INK, MUTED, Block, Rect, TableBlock, fit_cell, page_heading, text_block

TABLE_SIZE = 10.5
ROW_HEIGHT = 24.0
SUMMARY_GAP = 48.0  # between a narrow table and its summary

Pages = list[tuple[str, list[Block]]]


def table_pages(header: Sequence[str], rows: Sequence[Sequence[str]], widths: Sequence[float], numeric: Sequence[bool],
                area: Rect, total: Sequence[str] | None = None) -> list[TableBlock]:
    """`rows` as tables of at most as many rows as fit `area`'s height under a header
    row; `total`, when given, ends the last one. Cells are cut to one line."""
    per_page = max(1, int(area.h // ROW_HEIGHT) - 1)
    body = [tuple(row) for row in rows]
    chunks = [body[start:start + per_page] for start in range(0, len(body), per_page)] or [[]]
    if total is not None:
        if len(chunks[-1]) >= per_page:
            chunks.append([])
        chunks[-1].append(tuple(total))
    tables = []
    for index, chunk in enumerate(chunks):
        fitted = tuple(tuple(fit_cell(cell, TABLE_SIZE, width, "regular") for cell, width in zip(row, widths))
                       for row in chunk)
        head = tuple(fit_cell(cell, TABLE_SIZE, width, "bold") for cell, width in zip(header, widths))
        rect = Rect(area.x, area.y, sum(widths), ROW_HEIGHT * (len(chunk) + 1))
        tables.append(TableBlock(rect, head, fitted, tuple(widths), tuple(numeric), TABLE_SIZE, ROW_HEIGHT,
                                 total=total is not None and index == len(chunks) - 1))
    return tables


def _pages(key: str, tables: list[TableBlock], summary: list[Block] | None = None) -> Pages:
    pages: Pages = [(page_heading(SECTIONS[key], index), [table]) for index, table in enumerate(tables)]
    if summary:
        pages[0][1].extend(summary)
    return pages


def _scaled(widths: Sequence[float], total: float) -> list[float]:
    scale = total / sum(widths)
    return [width * scale for width in widths]


def _share(amount: int, budget: int | None) -> str:
    return f"{amount / budget:.1%}" if budget else "—"


def comparables_pages(deck: Deck, area: Rect) -> Pages:
    """Title, year, budget, worldwide gross, source and date read, one row a title."""
    currency = deck.currency
    rows = [(item.title, str(item.year) if item.year else "—", format_money(item.budget, currency),
             format_money(item.gross, currency), item.source or "—", item.retrieved or "—") for item in deck.comparables]
    widths = _scaled((210, 56, 128, 140, 214, 100), area.w)
    header = ("Title", "Year", "Budget", "Worldwide gross", "Source", "Retrieved")
    return _pages("comparables", table_pages(header, rows, widths, (False, True, True, True, False, False), area))


def budget_pages(deck: Deck, area: Rect) -> Pages:
    """The top sheet: a line a category with its share, the total (`deck.budget()`)."""
    budget = deck.budget()
    currency = deck.currency
    rows = [(line.category, format_money(line.amount, currency), _share(line.amount, budget)) for line in deck.budget_lines]
    total = ("Total", format_money(budget, currency), "100.0%" if budget else "—")
    table = Rect(area.x, area.y, 560, area.h)
    tables = table_pages(("Category", "Amount", "Share"), rows, (300, 150, 110), (False, True, True), table, total)
    x = table.right + SUMMARY_GAP
    width = area.right - x
    summary: list[Block] = [text_block(x, area.y, width, "Total budget", 11, "regular", MUTED, leading=16),
                            text_block(x, area.y + 18, width, format_money(budget, currency), 24, "bold", INK,
                                       max_lines=2, leading=30)]
    return _pages("budget", tables, summary)


def secured_line(deck: Deck) -> str:
    """"Secured: 45% of USD 2,500,000"; without a budget, the secured amount."""
    money = money_summary(deck)
    if money.secured_share is None:
        return f"Secured: {format_money(money.secured_total, deck.currency)} (no budget set)"
    return f"Secured: {format_share(money.secured_share)} of {format_money(money.budget, deck.currency)}"


def financing_pages(deck: Deck, area: Rect) -> Pages:
    """A row a source (amount, secured or not, share of the budget), the total, and the
    secured share beside the table."""
    money = money_summary(deck)
    currency = deck.currency
    rows = [(source.name, format_money(source.amount, currency), "Yes" if source.secured else "No",
             _share(source.amount, money.budget)) for source in deck.financing]
    total = ("Total", format_money(money.financing_total, currency), "", _share(money.financing_total, money.budget))
    table = Rect(area.x, area.y, 600, area.h)
    tables = table_pages(("Source", "Amount", "Secured", "Share of budget"), rows, (260, 150, 80, 110),
                         (False, True, False, True), table, total)
    x = table.right + SUMMARY_GAP
    width = area.right - x
    headline = format_share(money.secured_share) if money.secured_share is not None else \
        format_money(money.secured_total, currency)
    summary: list[Block] = [
        text_block(x, area.y, width, headline, 40 if money.secured_share is not None else 20, "bold", ACCENT,
                   max_lines=2, leading=48 if money.secured_share is not None else 26),
    ]
    summary.append(text_block(x, summary[0].rect.bottom + 6, width, secured_line(deck), 12, "bold", INK, leading=17))
    summary.append(text_block(x, summary[1].rect.bottom + 8, width,
                              f"Financing in the plan: {format_money(money.financing_total, currency)}", 10, "regular",
                              MUTED, leading=14))
    return _pages("financing", tables, summary)


def schedule_pages(deck: Deck, area: Rect) -> Pages:
    """Phase, start and end, a row a phase."""
    rows = [(item.phase, item.start or "—", item.end or "—") for item in deck.schedule]
    widths = (360, 160, 160)
    return _pages("schedule", table_pages(("Phase", "Start", "End"), rows, widths, (False, False, False),
                                          Rect(area.x, area.y, sum(widths), area.h)))

