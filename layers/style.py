"""How the atlas colours what it draws, for every surface: the live map (static/atlas/*.js,
through the page's view model), the print maps, the deck's map pictures and the offline page.

One table of colours, one class-break rule, one line-colour rule and one table of point
symbols: a city is drawn in the same class, in the same colour, under the same legend label, a
corridor in the same colour and a park with the same symbol, on screen and on paper.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

# qualitative, in sectors.yaml order; grey for anything past the list. Metallurgy (15th) is
# near-black: the blue it had could not be told from automotive's.
SECTOR_COLOURS = (
    "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf",
    "#bcbd22", "#393b79", "#637939", "#8c6d31", "#843c39", "#7b4173", "#252525", "#e6550d",
    "#31a354", "#756bb1", "#636363", "#9c9ede", "#cedb9c", "#e7ba52", "#ad494a", "#de9ed6",
    "#6baed6",
)
NO_SECTOR = "#777777"  # a park, project or line with no industry
MEMBER = "#b2182b"  # a cluster's members: outline, numbered badges
MEMBER_FILL = "#fddbc7"
OUTSIDE_FILL, OUTSIDE_OPACITY, OUTSIDE_LINE = "#eeeeee", 0.5, "#999999"  # live map: a city not in the cluster
CLUSTER_AREA = "#3182bd"  # cluster and city-group areas (print, offline), dashed
CITY_FOCUS = "#c51b7d"  # the outline of the city a view is filtered to
WATER = "#6baed6"  # rivers, lake shores
LAKE_FILL = "#c6dbef"

# Cities shaded by a count (parks, projects): one colour per class, lightest first
SHADES = ("#fee391", "#fec44f", "#fe9929", "#d95f0e", "#993404")
SHADE_OPACITY = 0.7
EMPTY_FILL, EMPTY_OPACITY = "#ffffff", 0.35  # a city with none: washed pale, in no class
# Cities shaded by an industry: one colour for "has it"
SECTOR_SHADE, SECTOR_SHADE_OPACITY = "#d95f0e", 0.55

DOUBLING = (1, 2, 4, 8, 16)  # class edges while the largest count is small
QUANTILES = (0.1, 0.25, 0.5, 0.75)  # past DOUBLING[-1] * 2: edges at these shares of the largest


def sector_colour(code: str, index: dict[str, int]) -> str:
    """The colour of an industry, by its position in sectors.yaml (`index`: code → position)."""
    i = index.get(code)
    return SECTOR_COLOURS[i] if i is not None and i < len(SECTOR_COLOURS) else NO_SECTOR


def lead_colour(sectors: Iterable[str] | None, index: dict[str, int]) -> str:
    """A park's, project's or cluster's colour: its first industry's (NO_SECTOR for none)."""
    first = next(iter(sectors or ()), None)
    return sector_colour(first, index) if first else NO_SECTOR


def line_colour(sectors: Iterable[str] | None, index: dict[str, int]) -> str:
    """The colour of a corridor or chain line, on every surface and in every view (a cluster's
    own too): its first industry's. A planner holds a printed corridor against the screen: the
    colour stays with the corridor whatever the filters leave beside it (a cycle of colours
    by position would not), and matches the industry key of the parks along it."""
    return lead_colour(sectors, index)


# ---------------------------------------------------------------- point symbols

PX_PT = 72 / 96  # one screen pixel (CSS, 1/96 in) in points: a symbol measures the same on paper


@dataclass(frozen=True)
class Stroke:
    colour: str | None  # None: the feature's own colour
    width: float  # screen pixels
    dash: tuple[float, ...] = ()  # screen pixels, on and off


@dataclass(frozen=True)
class Symbol:
    """A point's symbol: its shape and its size across (screen pixels, at the map's base)."""
    key: str  # the size class: the same on every surface for the same point
    shape: str  # star | diamond | circle | square
    size: float


SYMBOLS = {  # the live map's sizes; print and the offline page derive theirs from these
    "national": Symbol("national", "star", 19),
    "provincial": Symbol("provincial", "diamond", 15),
    "park": Symbol("park", "circle", 12),  # a municipal zone, or one of no stated level
    "project": Symbol("project", "square", 8),
}
OUTLINE = "#222222"
SOLID = Stroke(OUTLINE, 1.2)  # a sited point: filled in its industry's colour, dark outline
HOLLOW = Stroke(None, 2.4, (3, 2))  # placed at a town's … city's point: white, dashed ring
HOLLOW_FILL = "#ffffff"
CATALOGUE_OPACITY = 0.55  # a zone found only in the national catalogue is drawn faded
LEGEND_SYMBOL = "#888888"  # the symbol key's neutral fill
LEGEND_PRECISION = "#444444"  # the solid / hollow key's colour
# print: features sharing one point are one circle whose AREA is their count, read against
# the page's size key and resolved by its key table; this is the diameter of a circle of one
# (screen pixels, as SYMBOLS), so two read like a park's circle and 72 like a small city.
# The screen and the offline page, which have no size key, grow theirs by STACK below.
SHARED_UNIT = 8.7


@dataclass(frozen=True)
class Stack:
    """Several points drawn as one circle with their count in it (the live map's and offline
    page's groups and shared points): 7 + 3·log10(n) pt in radius, as print's badge was before
    print sized its circles by area (SHARED_UNIT)."""
    base: float  # across, screen pixels, for one
    per_decade: float  # pixels added each time the count grows tenfold
    width: float  # the ring

    def size(self, n: int) -> float:
        return self.base + self.per_decade * math.log10(max(int(n), 1))


STACK = Stack(14 / PX_PT, 6 / PX_PT, 2.0)


def symbol(layer_id: str, level: str | None = None) -> Symbol:
    """A point's symbol: a project's square, or a park's by its level."""
    if layer_id == "projects":
        return SYMBOLS["project"]
    return SYMBOLS[level] if level in ("national", "provincial") else SYMBOLS["park"]


def stroke(approx: bool) -> Stroke:
    """The outline of a point placed exactly (SOLID) or only at a unit's point (HOLLOW)."""
    return HOLLOW if approx else SOLID


def class_edges(values: Iterable[int]) -> list[int]:
    """The lower edge of each class of counts of one or more: doubling (1, 2, 4, 8, 16) up to
    the largest count, or, when the largest passes 32, 1 and shares of it (a tenth, a quarter,
    a half, three quarters) so a few large cities do not crowd the rest into one class. A count
    of zero is in no class."""
    most = max((int(v) for v in values), default=0)
    if most > DOUBLING[-1] * 2:
        edges = [1] + [math.ceil(most * f) for f in QUANTILES]
    else:
        edges = [e for e in DOUBLING if e <= most] or [1]
    return sorted(set(edges))


@dataclass(frozen=True)
class ShadeClass:
    lo: int
    hi: int | None  # None: open above
    colour: str

    @property
    def label(self) -> str:
        if self.hi is None:
            return f"≥ {self.lo}"
        return str(self.lo) if self.hi == self.lo else f"{self.lo}–{self.hi}"

    def holds(self, value: int) -> bool:
        return value >= self.lo and (self.hi is None or value <= self.hi)


def shade_classes(values: Iterable[int]) -> list[ShadeClass]:
    """The classes for these counts, each with its colour and legend label."""
    edges = class_edges(values)
    return [ShadeClass(lo, edges[i + 1] - 1 if i + 1 < len(edges) else None, SHADES[i])
            for i, lo in enumerate(edges)]


def class_of(value: int, classes: list[ShadeClass]) -> ShadeClass | None:
    """The class a count falls in; None for zero (drawn EMPTY_FILL)."""
    return next((c for c in classes if c.holds(int(value))), None)


def page_style(counts: dict[str, list[int]]) -> dict:
    """What the live map draws with: the classes of each count measure (from every city's
    count, as print makes them), the shading fills and the colours print shares, as JSON."""
    return {
        "classes": {m: [{"lo": c.lo, "hi": c.hi, "colour": c.colour, "label": c.label}
                        for c in shade_classes(vals)] for m, vals in counts.items()},
        "shade_opacity": SHADE_OPACITY,
        "empty": {"colour": EMPTY_FILL, "opacity": EMPTY_OPACITY},
        "sector": {"colour": SECTOR_SHADE, "opacity": SECTOR_SHADE_OPACITY},
        "member": MEMBER, "member_fill": MEMBER_FILL, "city_focus": CITY_FOCUS,
        "outside": {"colour": OUTSIDE_FILL, "opacity": OUTSIDE_OPACITY, "line": OUTSIDE_LINE},
        "water": WATER, "lake_fill": LAKE_FILL, "no_sector": NO_SECTOR,
        "symbols": {k: {"shape": s.shape, "size": s.size} for k, s in SYMBOLS.items()},
        "solid": _stroke_json(SOLID), "hollow": _stroke_json(HOLLOW), "hollow_fill": HOLLOW_FILL,
        "catalogue_opacity": CATALOGUE_OPACITY,
        "stack": {"base": round(STACK.base, 2), "per_decade": round(STACK.per_decade, 2),
                  "width": STACK.width},
        "legend": {"symbol": LEGEND_SYMBOL, "precision": LEGEND_PRECISION},
    }


def _stroke_json(s: Stroke) -> dict:
    return {"colour": s.colour, "width": s.width, "dash": " ".join(f"{d:g}" for d in s.dash)}
