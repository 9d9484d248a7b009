"""How the atlas colours what it draws, for every surface: the live map (static/atlas/*.js,
through the page's view model), the print maps, the deck's map pictures and the offline page.

One table of colours and one class-break rule: a city is drawn in the same class, in the same
colour, under the same legend label, on screen and on paper.
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
NO_SECTOR = "#777777"  # a park or project with no industry
LINE_COLOURS = ("#2166ac", "#1b9e77", "#e66101", "#7570b3", "#a6761d")  # corridor lines on paper
MEMBER = "#b2182b"  # a cluster's members: outline, numbered badges, its line
MEMBER_FILL = "#fddbc7"
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
        "water": WATER, "lake_fill": LAKE_FILL,
    }
