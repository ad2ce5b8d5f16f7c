"""LED walls as values: the cabinets they are built from, their sections (flat, or
curved around the stage), and the figures a plate is made to — the pixel canvas,
pixels per degree and the processor outputs it takes.

Cabinets are flat panels of whole pixels. A curved section is a polygon of cabinets
around the eye point at its radius: each cabinet turns the wall by the angle its width
subtends as a chord, `2·asin(w / 2r)`, and a section holds the whole number of
cabinets nearest its arc, but never more than fit in 360°. A single curved section
of 360° is a ring: it closes round the stage whatever whole number of cabinets closes
it, so it spans exactly 360°. Sections stand side by side, left to right, each taking
the angle it spans from the eye (a flat one `2·atan(w / 2d)`, from its viewer, or from
its own width away without one); together they go round the stage at most once. The
canvas is their widths added, as tall as the tallest.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from typing import Any

DEFAULT_OUTPUT_CAPACITY = 525_000  # pixels one processor output drives (a 4K tile processor port at 60 Hz)


@dataclass(frozen=True, slots=True)
class Cabinet:
    """One LED panel: its size in millimetres and its pixel pitch (centre to centre)."""

    width_mm: float
    height_mm: float
    pitch_mm: float

    @property
    def pixels(self) -> tuple[int, int]:
        """(columns, rows) of pixels on the cabinet."""
        return round(self.width_mm / self.pitch_mm), round(self.height_mm / self.pitch_mm)


@dataclass(frozen=True, slots=True)
class WallSection:
    """A run of cabinets: `flat`, `width_m` wide, seen from `viewer_distance_m` (for
    pixels per degree), or `curved` around the eye at `radius_m` over `arc_deg`."""

    kind: str  # "flat" | "curved"
    cabinet: Cabinet
    height_m: float
    width_m: float = 0.0  # flat
    viewer_distance_m: float = 0.0  # flat: where the camera stands, for pixels per degree
    radius_m: float = 0.0  # curved
    arc_deg: float = 0.0  # curved


@dataclass(frozen=True, slots=True)
class WallProfile:
    name: str
    sections: tuple[WallSection, ...]
    output_capacity: int = DEFAULT_OUTPUT_CAPACITY  # pixels per processor output


@dataclass(frozen=True, slots=True)
class SectionCanvas:
    """What one section comes to."""

    columns: int  # cabinets across
    rows: int  # cabinets up
    width_px: int
    height_px: int
    arc_deg: float | None  # curved: the arc the whole cabinets really span (360 for a ring)
    pixels_per_degree: float | None  # across the section, from the eye point; None without one
    span_deg: float = 0.0  # the horizontal angle it spans from the eye


@dataclass(frozen=True, slots=True)
class WallCanvas:
    """The pixel canvas of a whole wall and what driving it takes."""

    sections: tuple[SectionCanvas, ...]
    width_px: int
    height_px: int
    cabinets: int
    outputs: int  # processor outputs at the profile's capacity
    output_capacity: int
    pixels_per_degree: float | None = None  # the least of the sections': what a plate must match
    cabinet_px: tuple[int, int] = (0, 0)  # the first section's pixels per cabinet

    @property
    def pixels(self) -> int:
        return sum(section.width_px * section.height_px for section in self.sections)


def check_profile(profile: WallProfile) -> None:
    """Raise ValueError naming the first thing a wall cannot be: no sections, sizes that
    are not positive, a pitch larger than its cabinet, an arc over 360°, a zero radius,
    a section smaller than one cabinet, sections that together span more than 360°
    from the eye, or an output capacity below one cabinet."""
    if not profile.sections:
        raise ValueError("a wall needs at least one section")
    for number, section in enumerate(profile.sections, 1):
        where = f"section {number}" if len(profile.sections) > 1 else "the wall"
        cabinet = section.cabinet
        for what, value in (("cabinet width", cabinet.width_mm), ("cabinet height", cabinet.height_mm),
                            ("pixel pitch", cabinet.pitch_mm), ("height", section.height_m)):
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
                raise ValueError(f"{where}: the {what} must be a positive number, not {value!r}")
        if cabinet.pitch_mm > min(cabinet.width_mm, cabinet.height_mm):
            raise ValueError(f"{where}: a pitch of {cabinet.pitch_mm:g} mm is larger than its "
                             f"{cabinet.width_mm:g}×{cabinet.height_mm:g} mm cabinet; pitch is the distance between pixels")
        if section.height_m * 1000 < cabinet.height_mm / 2:
            raise ValueError(f"{where}: {section.height_m:g} m is less than one {cabinet.height_mm:g} mm cabinet high")
        if section.kind == "curved":
            if not section.radius_m > 0:
                raise ValueError(f"{where}: a curved wall needs a radius above zero, not {section.radius_m!r} m")
            if not 0 < section.arc_deg <= 360:
                raise ValueError(f"{where}: the arc must be more than 0° and at most 360°, not {section.arc_deg!r}°")
            if cabinet.width_mm / 2000 >= section.radius_m:
                raise ValueError(f"{where}: a {cabinet.width_mm:g} mm cabinet cannot curve round a "
                                 f"{section.radius_m:g} m radius")
            if round(section.arc_deg / _cabinet_angle(section)) < 1:
                raise ValueError(f"{where}: an arc of {section.arc_deg:g}° holds no whole cabinet")
        elif section.kind == "flat":
            if not section.width_m > 0:
                raise ValueError(f"{where}: a flat wall needs a width above zero, not {section.width_m!r} m")
            if section.width_m * 1000 < cabinet.width_mm / 2:
                raise ValueError(f"{where}: {section.width_m:g} m is less than one {cabinet.width_mm:g} mm cabinet wide")
            if section.viewer_distance_m < 0:
                raise ValueError(f"{where}: the viewer distance cannot be negative")
        else:
            raise ValueError(f"{where}: a section is flat or curved, not {section.kind!r}")
    _check_span(profile)
    biggest = max(math.prod(section.cabinet.pixels) for section in profile.sections)
    if profile.output_capacity < biggest:
        raise ValueError(f"an output must drive at least one cabinet ({biggest:,} pixels), "
                         f"not {profile.output_capacity:,}")


def wall_canvas(profile: WallProfile) -> WallCanvas:
    """The canvas `profile` makes: cabinets and pixels per section, the total, pixels
    per degree and processor outputs. Raises ValueError as `check_profile`."""
    check_profile(profile)
    sections = tuple(_section_canvas(section) for section in profile.sections)
    densities = [section.pixels_per_degree for section in sections if section.pixels_per_degree]
    total = sum(section.width_px * section.height_px for section in sections)
    return WallCanvas(
        sections=sections,
        width_px=sum(section.width_px for section in sections),
        height_px=max(section.height_px for section in sections),
        cabinets=sum(section.columns * section.rows for section in sections),
        outputs=math.ceil(total / profile.output_capacity),
        output_capacity=profile.output_capacity,
        pixels_per_degree=min(densities) if densities else None,
        cabinet_px=profile.sections[0].cabinet.pixels,
    )


def _check_span(profile: WallProfile) -> None:
    """Refuse sections that, as built, go round the stage more than once."""
    spans = [_section_canvas(section).span_deg for section in profile.sections]
    total = sum(spans)
    if total > 360 + 1e-9:
        parts = " + ".join(f"{span:.1f}°" for span in spans)
        raise ValueError(f"the wall spans {total:.1f}° from the eye ({parts}); a wall goes round the stage "
                         f"at most once (360°): shorten an arc or a flat section")


def _cabinet_angle(section: WallSection) -> float:
    """Degrees of arc one cabinet's width turns a curved wall by (as a chord)."""
    return math.degrees(2 * math.asin(section.cabinet.width_mm / 2000 / section.radius_m))


def _section_canvas(section: WallSection) -> SectionCanvas:
    cabinet_w, cabinet_h = section.cabinet.pixels
    rows = max(1, round(section.height_m * 1000 / section.cabinet.height_mm))
    if section.kind == "curved":
        step = _cabinet_angle(section)
        columns = max(1, round(section.arc_deg / step))
        if section.arc_deg >= 360:
            arc = 360.0  # a ring: its cabinets close round the stage
        else:
            if columns * step > 360:  # rounding up would go past a full turn
                columns = math.floor(section.arc_deg / step)
            arc = columns * step
        return SectionCanvas(columns, rows, columns * cabinet_w, rows * cabinet_h, arc, columns * cabinet_w / arc, arc)
    columns = max(1, round(section.width_m * 1000 / section.cabinet.width_mm))
    width_m = columns * section.cabinet.width_mm / 1000
    density = None
    if section.viewer_distance_m > 0:
        # At the middle of the wall, straight ahead, one degree covers d·tan(1°) of it.
        density = section.viewer_distance_m * 1000 * math.tan(math.radians(1)) / section.cabinet.pitch_mm
    # Seen from its viewer, or (without one) from its own width away, as the plate's rays see it.
    span = math.degrees(2 * math.atan(width_m / 2 / (section.viewer_distance_m or width_m)))
    return SectionCanvas(columns, rows, columns * cabinet_w, rows * cabinet_h, None, density, span)


def profile_to_dict(profile: WallProfile) -> dict[str, Any]:
    """`profile` as JSON-ready values (the inverse of `profile_from_dict`)."""
    return asdict(profile)


def profile_from_dict(data: Any) -> WallProfile:
    """A WallProfile from `profile_to_dict`'s output or hand-written JSON. Raises
    ValueError naming a missing or unknown field, or what `check_profile` refuses."""
    if not isinstance(data, dict):
        raise ValueError("a wall profile is a JSON object")
    try:
        sections = []
        for raw in data.get("sections") or ():
            raw = dict(raw)
            cabinet = Cabinet(**{key: float(value) for key, value in dict(raw.pop("cabinet")).items()})
            numbers = {key: float(value) for key, value in raw.items() if key != "kind"}
            sections.append(WallSection(kind=str(raw.get("kind", "")), cabinet=cabinet, **numbers))
        profile = WallProfile(
            name=str(data.get("name", "")), sections=tuple(sections),
            output_capacity=int(data.get("output_capacity", DEFAULT_OUTPUT_CAPACITY)),
        )
    except KeyError as exc:
        raise ValueError(f"wall profile: missing {exc.args[0]}") from None
    except TypeError as exc:  # an unknown or missing keyword
        raise ValueError(f"wall profile: {exc}".replace("__init__() ", "")) from None
    except (ValueError, OverflowError) as exc:
        raise ValueError(f"wall profile: not a number ({exc})") from None
    unknown = sorted(set(data) - {"name", "sections", "output_capacity"})
    if unknown:
        raise ValueError(f"wall profile: unknown field(s) {', '.join(unknown)}")
    check_profile(profile)
    return profile


def profile_json(profile: WallProfile) -> str:
    """`profile` as indented JSON text, as saved beside a project or read by `--wall`."""
    return json.dumps(profile_to_dict(profile), indent=2)
