"""A first draft of shots for a scene, from a documented heuristic. Users edit from there.

The rules, in order:
1. A scene at a new location opens on an establishing shot: EWS for exteriors, WS
   for interiors, carrying the scene's first action paragraph when it opens on one
   (its move and angle read as in rule 3).
2. A heading that is itself an insert or a POV (`.INSERT - THE LOGBOOK`,
   `EXT. SEA - MARA'S POV`) makes its first shot an INSERT or POV.
3. Each action paragraph is a shot. `INSERT` / `CLOSE ON` / `POV` at its start set
   the size; otherwise the characters it names set it: none WS, one MS, two
   TWO_SHOT, more MWS. Verbs of pace set the move (runs -> handheld, approaches ->
   dolly in) and words of scale the angle (looms -> low, far below -> high).
4. Dialogue is covered as an exchange: with two or more speakers, each speaker's
   first line is an OTS over the other, later lines CU (alternating coverage);
   a lone speaker gets an MCU; dual dialogue a TWO_SHOT. Consecutive lines of one
   speaker share a shot.
5. Durations: about 2.5 spoken words a second plus 1.5 s per action beat
   (sentence), at least 1.5 s; an establishing shot holds at least 3 s.
"""

from __future__ import annotations

import re
from dataclasses import replace

from ..domain.model import MAX_SHOT_SECONDS, Shot
from ..domain.timing import estimate_duration
from ..domain.vocabulary import Angle, Direction, IntExt, Movement, ShotSize
from .document import Action, Dialogue, ScriptScene

LENS_FOR_SIZE: dict[ShotSize, float] = {
    ShotSize.ews: 18.0,
    ShotSize.ws: 24.0,
    ShotSize.mws: 32.0,
    ShotSize.ms: 40.0,
    ShotSize.two_shot: 40.0,
    ShotSize.ots: 50.0,
    ShotSize.pov: 35.0,
    ShotSize.mcu: 65.0,
    ShotSize.cu: 85.0,
    ShotSize.ecu: 100.0,
    ShotSize.insert: 100.0,
}
ESTABLISHING_SECONDS = 3.0

_MOVES = (
    (re.compile(r"\b(runs?|running|races?|racing|sprints?|chases?|flees?|stumbles?)\b", re.I), Movement.handheld, Direction.none),
    (re.compile(r"\b(approach(es)?|moves? toward|walks? toward|closer)\b", re.I), Movement.dolly_in, Direction.none),
    (re.compile(r"\b(backs? away|retreats?|pulls? back)\b", re.I), Movement.dolly_out, Direction.none),
    (re.compile(r"\b(rises?|climbs?|ascends?)\b", re.I), Movement.tilt, Direction.up),
)
_ANGLES = (
    (re.compile(r"\b(looms?|towers?|towering)\b", re.I), Angle.low),
    (re.compile(r"\b(far below|from above|overhead)\b", re.I), Angle.high),
)


def draft_shots(scene: ScriptScene, cast: frozenset[str], new_location: bool) -> list[Shot]:
    """Draft the shots of `scene`.

    `cast` holds every speaking character of the script (to find them named in
    action); `new_location` says the previous scene was elsewhere. Returns shots
    in order, without scene ids.
    """
    shots: list[Shot] = []
    elements = list(scene.elements)
    heading_size = heading_shot_size(scene.heading)
    if heading_size is None and new_location:
        size = ShotSize.ews if scene.int_ext == IntExt.exterior else ShotSize.ws
        action = ""
        if elements and isinstance(elements[0], Action):
            action = elements.pop(0).text
        establishing = _action_shot(action or scene.heading, size, cast)
        shots.append(replace(establishing, duration=max(ESTABLISHING_SECONDS, establishing.duration)))

    previous_speaker: str | None = None
    exchange_speakers = _exchanges(elements)
    seen_in_exchange: set[str] = set()
    for index, element in enumerate(elements):
        if isinstance(element, Action):
            seen_in_exchange.clear()
            previous_speaker = None
            size = heading_size if heading_size is not None and not shots else _action_size(element.text, cast)
            shots.append(_action_shot(element.text, size, cast))
        elif isinstance(element, Dialogue):
            speakers = exchange_speakers[index]
            if shots and previous_speaker == element.character and shots[-1].dialogue and not element.dual:
                shots[-1] = _extend(shots[-1], element)
                continue
            if element.dual:
                shot = _dialogue_shot(ShotSize.two_shot, element, speakers)
                if shots and shots[-1].size == ShotSize.two_shot and shots[-1].dialogue:
                    shot = _extend(shots.pop(), element)
            elif len(speakers) == 1:
                shot = _dialogue_shot(ShotSize.mcu, element, (element.character,))
            else:
                first_time = element.character not in seen_in_exchange
                listener = previous_speaker or next(s for s in speakers if s != element.character)
                size = ShotSize.ots if first_time else ShotSize.cu
                who = (element.character, listener) if first_time else (element.character,)
                shot = _dialogue_shot(size, element, who)
            seen_in_exchange.add(element.character)
            previous_speaker = element.character
            shots.append(shot)
    if not shots:
        shots.append(_shot(ShotSize.ws, action=scene.heading, duration=ESTABLISHING_SECONDS))
    return [replace(shot, position=position) for position, shot in enumerate(shots)]


def scene_characters(scene: ScriptScene, cast: frozenset[str]) -> tuple[str, ...]:
    """Speakers of the scene and cast members its action names, in order of appearance."""
    names: dict[str, None] = {}
    for element in scene.elements:
        if isinstance(element, Dialogue):
            names[element.character] = None
        elif isinstance(element, Action):
            names.update(dict.fromkeys(_named(element.text, cast)))
    return tuple(names)


def _exchanges(elements: list) -> dict[int, tuple[str, ...]]:
    """For each dialogue element, the speakers of the uninterrupted exchange it is in."""
    result: dict[int, tuple[str, ...]] = {}
    run: list[int] = []
    for index, element in enumerate([*elements, None]):
        if isinstance(element, Dialogue):
            run.append(index)
            continue
        speakers = tuple(dict.fromkeys(elements[i].character for i in run))
        result.update((i, speakers) for i in run)
        run = []
    return result


def heading_shot_size(heading: str) -> ShotSize | None:
    """INSERT or POV when a scene heading is really a shot, else None."""
    upper = heading.upper()
    if "INSERT" in upper:
        return ShotSize.insert
    if re.search(r"\bPOV\b", upper):
        return ShotSize.pov
    return None


def _action_size(text: str, cast: frozenset[str]) -> ShotSize:
    opening = text.split("\n", 1)[0].upper()
    if opening.startswith("INSERT"):
        return ShotSize.insert
    if re.search(r"\bPOV\b", opening):
        return ShotSize.pov
    if opening.startswith(("CLOSE ON", "CLOSE-UP", "CLOSE UP")):
        return ShotSize.cu
    named = _named(text, cast)
    return {0: ShotSize.ws, 1: ShotSize.ms, 2: ShotSize.two_shot}.get(len(named), ShotSize.mws)


def _named(text: str, cast: frozenset[str]) -> tuple[str, ...]:
    """Cast members named in `text`, in order of mention.

    A name counts as a whole word in capitals (MARA, on introduction) or title case
    (Mara), so a cue like RADIO does not match "a crackling radio".
    """
    found = []
    for name in cast:
        spelled = "|".join(re.escape(form) for form in {name, name.title()})
        match = re.search(rf"\b(?:{spelled})\b", text)
        if match:
            found.append((match.start(), name))
    return tuple(name for _, name in sorted(found))


def _action_shot(text: str, size: ShotSize, cast: frozenset[str]) -> Shot:
    movement, direction = Movement.static, Direction.none
    for pattern, move, towards in _MOVES:
        if pattern.search(text):
            movement, direction = move, towards
            break
    angle = next((a for pattern, a in _ANGLES if pattern.search(text)), Angle.eye)
    return _shot(
        size,
        action=text,
        duration=estimate_duration(action=text),
        characters=_named(text, cast),
        movement=movement,
        direction=direction,
        angle=angle,
    )


def _dialogue_shot(size: ShotSize, line: Dialogue, characters: tuple[str, ...]) -> Shot:
    return _shot(size, dialogue=_spoken(line), duration=estimate_duration(dialogue=line.text), characters=characters)


def _extend(shot: Shot, line: Dialogue) -> Shot:
    dialogue = shot.dialogue + "\n" + _spoken(line)
    spoken_words = "\n".join(part.split(": ", 1)[-1] for part in dialogue.split("\n"))
    characters = tuple(dict.fromkeys((*shot.characters, line.character)))
    duration = min(estimate_duration(dialogue=spoken_words), MAX_SHOT_SECONDS)
    return replace(shot, dialogue=dialogue, duration=duration, characters=characters)


def _spoken(line: Dialogue) -> str:
    paren = f" {line.parenthetical}" if line.parenthetical else ""
    return f"{line.character}{paren}: {line.text}"


def _shot(size: ShotSize, duration: float = 3.0, **values) -> Shot:
    # A very long speech still drafts as one shot; the editor splits it, not the draft.
    return Shot(size=size, lens_mm=LENS_FOR_SIZE[size], duration=min(duration, MAX_SHOT_SECONDS), **values)
