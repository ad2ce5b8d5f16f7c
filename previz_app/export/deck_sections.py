"""The pitch deck's pages, section by section, in SECTIONS order: what goes where on
each page, and where a long section goes on to another page. An empty section is
left out, never printed blank."""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field, replace
from functools import partial

from PIL import Image
from sqlite_utils import Database

from ..domain.deck import SECTIONS, CastStatus, Deck, empty_sections
from ..domain.model import Project
from ..store.media import MediaStore
from ..store.scenes import list_scenes
from ..store.settings import read_project
from ..store.shots import list_shots
from ..store.takes import get_take
from ..store.transaction import read_snapshot
from .deck_layout import (
    ACCENT,
    ATTACHED_COLOUR,
    CONTENT_BOTTOM,
    CONTENT_TOP,
    GUTTER,
    IMAGE_DPI,
    INK,
    MARGIN,
    MUTED,
    NIGHT,
    PAGE_HEIGHT,
    PAGE_WIDTH,
    PAPER,
    RULE,
    WHITE,
    WISHLIST_COLOUR,
    ZEBRA,
    Block,
    DeckLayout,
    ImageBlock,
    Page,
    Rect,
    ShapeBlock,
    TextBlock,
    flow_text,
    page_heading,
    text_block,
)
from .deck_tables import budget_pages, comparables_pages, financing_pages, schedule_pages
from .files import ExportError
from .fonts import text_width
from .pictures import MissingImageError, Provenance, blocking_panel, provenance, take_image

CONTENT = Rect(MARGIN, CONTENT_TOP, PAGE_WIDTH - 2 * MARGIN, CONTENT_BOTTOM - CONTENT_TOP)
TWO_COLUMNS = [Rect(MARGIN + i * (CONTENT.w + GUTTER) / 2, CONTENT.y, (CONTENT.w - GUTTER) / 2, CONTENT.h) for i in (0, 1)]
CARDS_PER_PAGE = 3  # characters
TEAM_PER_PAGE = 6  # 3 x 2
BOARDS_PER_PAGE = 6  # key sequences, 3 x 2
MOOD_FIRST_PAGE, MOOD_PER_PAGE = 6, 8  # beside the tone text (3 x 2), then 4 x 2


@dataclass
class Draft:
    """A page before numbering: its heading and blocks; `chrome` adds the heading, the
    accent rule and the footer."""

    heading: str
    blocks: list[Block] = field(default_factory=list)
    chrome: bool = True
    background: str = PAPER


@dataclass(frozen=True)
class _Context:
    db: Database
    media: MediaStore
    deck: Deck
    project: Project
    title: str

    def picture(self, take_id: int, what: str, label: str) -> tuple[Callable[[], Image.Image], Provenance | None]:
        """A loader for take `take_id`'s picture and its recipe. Raises MissingImageError
        naming `what` when the take is gone."""
        try:
            take = get_take(self.db, take_id)
        except ValueError:
            raise MissingImageError(f"{what}: take {take_id} is no longer in the project; choose another take") from None
        return partial(take_image, self.media, take, what), provenance(take, label)


def lay_out_deck(db: Database, media: MediaStore, deck: Deck, sections: Collection[str] | None = None) -> DeckLayout:
    """The pages of `deck` for project `db`, in SECTIONS order, empty sections left out.
    With `sections` (SECTIONS keys), only their pages, numbered as in the whole deck.

    Reads takes and shots, in one read snapshot (with the deck itself when called
    inside one), but decodes no picture. Raises ValueError for an unknown
    section key, MissingImageError for a picture whose take is gone and ExportError for
    a key sequence whose shot is gone."""
    unknown = sorted(set(sections or ()) - set(SECTIONS))
    if unknown:
        raise ValueError(f"unknown deck section(s): {', '.join(unknown)}; known: {', '.join(SECTIONS)}")
    omitted = tuple(empty_sections(deck))
    builders: dict[str, Callable[[_Context], list[Draft]]] = {
        "title": _title, "logline": _logline, "synopsis": partial(_statement, "synopsis"),
        "director_statement": partial(_statement, "director_statement"),
        "producer_statement": partial(_statement, "producer_statement"), "tone": _tone, "characters": _characters,
        "sequences": _sequences, "comparables": _tables(comparables_pages), "budget": _tables(budget_pages),
        "financing": _tables(financing_pages), "schedule": _tables(schedule_pages), "team": _team, "contact": _contact,
    }
    pages: list[Page] = []
    number = 0
    # Takes and shots as of one moment: the app may edit the project while a worker lays the deck out.
    with read_snapshot(db):
        project = read_project(db)
        context = _Context(db, media, deck, project, deck.title.strip() or project.title)
        for key in SECTIONS:
            if key in omitted:
                continue
            for draft in builders[key](context):
                number += 1
                if sections is not None and key not in sections:
                    continue
                blocks = draft.blocks
                if draft.chrome:
                    blocks = [*_chrome(draft.heading, context.title, number), *blocks]
                pages.append(Page(key, draft.heading, number, tuple(blocks), draft.background))
    return DeckLayout(context.title, tuple(pages), omitted)


def _chrome(heading: str, title: str, number: int) -> list[Block]:
    width = CONTENT.w
    return [
        text_block(MARGIN, 36, width, heading, 26, "bold", INK, max_lines=1, leading=34),
        ShapeBlock(Rect(MARGIN, 80, 44, 3), ACCENT),
        ShapeBlock(Rect(MARGIN, 498, width, 0.75), RULE),
        text_block(MARGIN, 506, width - 100, title, 9, "regular", MUTED, max_lines=1, leading=12),
        text_block(PAGE_WIDTH - MARGIN - 80, 506, 80, str(number), 9, "bold", MUTED, "right", leading=12),
    ]


def _moved(block: TextBlock, y: float) -> TextBlock:
    return replace(block, rect=replace(block.rect, y=y))


def _title(context: _Context) -> list[Draft]:
    deck = context.deck
    draft = Draft(context.title, chrome=False, background=NIGHT)
    width = CONTENT.w
    title = text_block(MARGIN, 0, width, context.title, 40, "bold", WHITE, max_lines=2, leading=48)
    logline = text_block(MARGIN, 0, width * 0.8, deck.logline, 15, "italic", WHITE, max_lines=4, leading=21) \
        if deck.logline.strip() else None
    height = title.rect.h + (logline.rect.h + 14 if logline else 0)
    if deck.key_art_take_id is not None:
        load, recipe = context.picture(deck.key_art_take_id, "key art", "Key art")
        band = max(200.0, height + 80)
        draft.blocks.append(ImageBlock(Rect(0, 0, PAGE_WIDTH, PAGE_HEIGHT), load, "key art", recipe))
        # The band darkens the picture under the text; two lighter steps above soften its edge.
        for step, opacity in ((2, 0.2), (1, 0.4), (0, 0.62)):
            top = PAGE_HEIGHT - band - 18 * step
            draft.blocks.append(ShapeBlock(Rect(0, top, PAGE_WIDTH, 18 if step else band), "000000", opacity))
        top = PAGE_HEIGHT - band + 40
    else:
        top = (PAGE_HEIGHT - height) / 2
    draft.blocks += [ShapeBlock(Rect(MARGIN, top - 16, 44, 3), ACCENT), _moved(title, top)]
    if logline:
        draft.blocks.append(_moved(logline, top + title.rect.h + 14))
    return [draft]


def _logline(context: _Context) -> list[Draft]:
    width = 720.0
    block = text_block((PAGE_WIDTH - width) / 2, 0, width, context.deck.logline, 24, "italic", INK, "center",
                       leading=34)
    if block.rect.h <= CONTENT.h:
        return [Draft(SECTIONS["logline"], [_moved(block, CONTENT.y + (CONTENT.h - block.rect.h) / 2)])]
    return _flowed(SECTIONS["logline"], context.deck.logline, 20, lambda _page: [CONTENT], "italic")


def _statement(key: str, context: _Context) -> list[Draft]:
    return _flowed(SECTIONS[key], getattr(context.deck, key), 12, lambda _page: TWO_COLUMNS)


def _flowed(heading: str, text: str, size: float, frames, style: str = "regular") -> list[Draft]:
    pages = flow_text(text, size, frames, style, INK, leading=round(size * 1.45, 2), space_after=size * 0.7)
    return [Draft(page_heading(heading, index), list(blocks)) for index, blocks in enumerate(pages)]


def _grid(area: Rect, columns: int, rows: int, gap: float = 12.0) -> list[Rect]:
    w = (area.w - gap * (columns - 1)) / columns
    h = (area.h - gap * (rows - 1)) / rows
    return [Rect(area.x + c * (w + gap), area.y + r * (h + gap), w, h) for r in range(rows) for c in range(columns)]


def _tone(context: _Context) -> list[Draft]:
    deck = context.deck
    images = [(index, take_id) for index, take_id in enumerate(deck.mood_take_ids, 1)]
    heading = SECTIONS["tone"]
    drafts: list[Draft] = []
    if deck.tone.strip():
        column = Rect(MARGIN, CONTENT.y, 280, CONTENT.h)
        drafts = _flowed(heading, deck.tone, 12, lambda page: [column] if page == 0 and images else TWO_COLUMNS)
        if images:
            area = Rect(column.right + GUTTER, CONTENT.y, CONTENT.right - column.right - GUTTER, CONTENT.h)
            drafts[0].blocks += _mood(context, images[:MOOD_FIRST_PAGE], _grid(area, 3, 2))
            images = images[MOOD_FIRST_PAGE:]
    for start in range(0, len(images), MOOD_PER_PAGE):
        blocks = _mood(context, images[start:start + MOOD_PER_PAGE], _grid(CONTENT, 4, 2))
        drafts.append(Draft(page_heading(heading, len(drafts)), blocks))
    return drafts


def _mood(context: _Context, images: list[tuple[int, int]], cells: list[Rect]) -> list[Block]:
    blocks: list[Block] = []
    for (index, take_id), cell in zip(images, cells):
        load, recipe = context.picture(take_id, f"mood board image {index}", f"Mood board image {index}")
        blocks.append(ImageBlock(cell, load, f"mood board image {index}", recipe))
    return blocks


def _columns(count: int) -> list[float]:
    width = (CONTENT.w - GUTTER * (count - 1)) / count
    return [MARGIN + i * (width + GUTTER) for i in range(count)]


def _characters(context: _Context) -> list[Draft]:
    drafts = []
    width = (CONTENT.w - 2 * GUTTER) / 3
    characters = context.deck.characters
    for start in range(0, len(characters), CARDS_PER_PAGE):
        draft = Draft(page_heading(SECTIONS["characters"], len(drafts)))
        cards = characters[start:start + CARDS_PER_PAGE]
        pictured = any(character.image_take_id is not None for character in cards)
        for x, character in zip(_columns(3), cards):
            draft.blocks += _character_card(context, x, width, character, pictured)
        drafts.append(draft)
    return drafts


def _character_card(context: _Context, x: float, width: float, character, pictured: bool) -> list[Block]:
    """A character's picture, name, cast marker and description in a column; where a
    card beside it has a picture and this one has none, its initial holds the place so
    the names line up."""
    blocks: list[Block] = []
    y = CONTENT.y
    picture = Rect(x, y, width, 150)
    if character.image_take_id is not None:
        what = f"character {character.name}"
        load, recipe = context.picture(character.image_take_id, what, f"Character {character.name}")
        blocks.append(ImageBlock(picture, load, what, recipe))
    elif pictured:
        blocks += [ShapeBlock(picture, ZEBRA),
                   text_block(x, y + 45, width, (character.name.strip() or "?")[0].upper(), 44, "bold", RULE, "center",
                              leading=60)]
    if pictured:
        y += picture.h + 14
    name = text_block(x, y, width, character.name, 18, "bold", INK, max_lines=1, leading=23)
    y = name.rect.bottom + 6
    attached = CastStatus(character.status) is CastStatus.attached
    label = "ATTACHED" if attached else "WISHLIST"
    pill = text_width(label, 8, "bold") + 14
    cast = character.cast.strip() or ("cast to be announced" if attached else "to be cast")
    blocks += [
        name,
        ShapeBlock(Rect(x, y, pill, 16), ATTACHED_COLOUR if attached else WISHLIST_COLOUR),
        text_block(x, y, pill, label, 8, "bold", WHITE, "center", leading=16),
        text_block(x + pill + 8, y, width - pill - 8, cast, 11, "italic" if not character.cast.strip() else "regular",
                   INK, max_lines=1, leading=16),
    ]
    y += 16 + 12
    leading = 15.5
    lines = int((CONTENT.bottom - y) // leading)
    if character.description.strip() and lines > 0:
        blocks.append(text_block(x, y, width, character.description, 11, "regular", INK, leading=leading,
                                 max_lines=lines, space_after=0))
    return blocks


def _sequences(context: _Context) -> list[Draft]:
    db = context.db
    shots = list_shots(db)
    by_id = {shot.id: shot for shot in shots}
    order = {shot.id: index for index, shot in enumerate(shots)}
    gone = [shot_id for shot_id in context.deck.sequence_shot_ids if shot_id not in by_id]
    if gone:
        raise ExportError(f"key sequences: shot {gone[0]} is no longer in the project; take it out of the deck")
    chosen = sorted({by_id[shot_id] for shot_id in context.deck.sequence_shot_ids}, key=lambda shot: order[shot.id])
    scenes = {scene.id: scene for scene in list_scenes(db, include_removed=True)}
    cells = _grid(CONTENT, 3, 2, gap=24.0)
    drafts = []
    for start in range(0, len(chosen), BOARDS_PER_PAGE):
        draft = Draft(page_heading(SECTIONS["sequences"], len(drafts)))
        for cell, shot in zip(cells, chosen[start:start + BOARDS_PER_PAGE]):
            draft.blocks += _board(context, cell, shot, scenes[shot.scene_id])
        drafts.append(draft)
    return drafts


def _board(context: _Context, cell: Rect, shot, scene) -> list[Block]:
    aspect = context.project.aspect_ratio
    box_h = cell.h - 62
    w = min(cell.w, box_h * aspect)
    rect = Rect(cell.x, cell.y, w, w / aspect)
    what = f"shot {shot.number}"
    if shot.hero_take_id is not None:
        load, recipe = context.picture(shot.hero_take_id, what, f"Shot {shot.number}")
    else:  # no frame yet: the blocking diagram of its metadata stands in
        pixels = (round(rect.w / 72 * IMAGE_DPI), round(rect.h / 72 * IMAGE_DPI))
        load, recipe = partial(blocking_panel, context.project, scene, shot, pixels), None
    y = rect.bottom + 8
    number = text_block(cell.x, y, cell.w, shot.number, 12, "bold", ACCENT, max_lines=1, leading=16)
    offset = text_width(shot.number, 12, "bold") + 8
    blocks: list[Block] = [ImageBlock(rect, load, what, recipe), number,
                           text_block(cell.x + offset, y + 2, max(10.0, cell.w - offset), scene.heading, 8.5, "regular",
                                      MUTED, max_lines=1, leading=14)]
    if shot.action.strip():
        blocks.append(text_block(cell.x, y + 19, cell.w, shot.action, 9.5, "regular", INK, leading=12.5, max_lines=3))
    return blocks


def _tables(pages_of: Callable) -> Callable[[_Context], list[Draft]]:
    def build(context: _Context) -> list[Draft]:
        pages = pages_of(context.deck, CONTENT)
        return [Draft(heading, list(blocks)) for heading, blocks in pages]

    return build


def _team(context: _Context) -> list[Draft]:
    drafts = []
    cells = _grid(CONTENT, 3, 2, gap=GUTTER)
    team = context.deck.team
    for start in range(0, len(team), TEAM_PER_PAGE):
        draft = Draft(page_heading(SECTIONS["team"], len(drafts)))
        for cell, member in zip(cells, team[start:start + TEAM_PER_PAGE]):
            name = text_block(cell.x, cell.y, cell.w, member.name, 15, "bold", INK, max_lines=1, leading=20)
            draft.blocks += [ShapeBlock(Rect(cell.x, cell.y - 8, cell.w, 0.75), RULE), name]
            y = name.rect.bottom + 2
            if member.role.strip():
                role = text_block(cell.x, y, cell.w, member.role, 10.5, "bold", ACCENT, max_lines=1, leading=15)
                draft.blocks.append(role)
                y = role.rect.bottom + 6
            lines = int((cell.bottom - y) // 14)
            if member.bio.strip() and lines > 0:
                draft.blocks.append(text_block(cell.x, y, cell.w, member.bio, 10, "regular", INK, leading=14,
                                               max_lines=lines))
        drafts.append(draft)
    return drafts


def _contact(context: _Context) -> list[Draft]:
    column = Rect(MARGIN, CONTENT.y + 20, 560, CONTENT.h - 20)
    drafts = _flowed(SECTIONS["contact"], context.deck.contact, 16, lambda _page: [column])
    drafts[-1].blocks.append(text_block(column.right + GUTTER, CONTENT.bottom - 60, CONTENT.right - column.right - GUTTER,
                                        context.title, 20, "bold", MUTED, "right", max_lines=2, leading=26))
    return drafts

