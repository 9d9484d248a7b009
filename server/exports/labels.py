"""Where a print map's place names and tags go: beside their point, where they cover no symbol,
no other name and no furniture (scale bar, north arrow), and inside the map's frame.

Each label tries eight positions around its point (below, above, right, left, then the four
diagonals), first just clear of the symbol drawn at that point (a city's point often holds its
shared-point circle), then on wider rings, and takes the first whose box is inside the frame
and meets nothing placed so far; a label on a wider ring gets a thin leader line to its point.
A label with no free place is left out rather than printed over a symbol: `Placer.dropped`
says which. The boxes placed so far are an R-tree (`rtree`) that grows with every label and
answers each test as the labels go in: an incremental index, which shapely's STRtree (built
once, immutable) is not. Boxes are in display pixels of the figure being drawn.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any, cast

import numpy as np
import rtree
from matplotlib.axes import Axes
from matplotlib.collections import PathCollection
from matplotlib.text import Text
from matplotlib.transforms import ScaledTranslation

Box = tuple[float, float, float, float]  # x0, y0, x1, y1 in display pixels

D = math.sqrt(0.5)
# the direction from the point, and the text's alignment there: below first (where the labels
# always went), then above, right, left, then the diagonals
POSITIONS = ((0, -1, "center", "top"), (0, 1, "center", "bottom"), (1, 0, "left", "center"),
             (-1, 0, "right", "center"), (D, -D, "left", "top"), (-D, -D, "right", "top"),
             (D, D, "left", "bottom"), (-D, D, "right", "bottom"))
GAP = 9.0  # points between a point and its name when no symbol is drawn there
RINGS = (0.0, 7.0, 16.0, 28.0, 42.0, 60.0)  # points added to the gap, ring by ring; past the first, a leader


class Placer:
    """The boxes taken on one map, and the frame its labels stay inside."""

    def __init__(self, frame: Box | None = None) -> None:
        self._index = rtree.index.Index()
        self._symbol_widths: dict[int, float] = {}  # id -> width, of the symbols only
        self._count = 0
        self.frame = frame
        self.symbols: list[Box] = []  # what labels must not cover (for the tests)
        self.labels: list[Box] = []  # the labels placed
        self.dropped: list[str] = []  # the labels with no free place, left out

    def occupy(self, box: Box, symbol: bool = False) -> None:
        self._index.insert(self._count, box)
        if symbol:
            self._symbol_widths[self._count] = box[2] - box[0]
            self.symbols.append(box)
        self._count += 1

    def free(self, box: Box) -> bool:
        return next(iter(self._index.intersection(box)), None) is None

    def inside(self, box: Box) -> bool:
        if self.frame is None:
            return True
        fx0, fy0, fx1, fy1 = self.frame
        return fx0 <= box[0] and fy0 <= box[1] and box[2] <= fx1 and box[3] <= fy1

    def widest_at(self, x: float, y: float) -> float:
        """Half the width of the widest symbol drawn over the display point (x, y); 0 for none."""
        hits = self._index.intersection((x, y, x, y))
        return max((self._symbol_widths.get(i, 0.0) for i in hits), default=0.0) / 2

    def take_first_free(self, candidates: Sequence[Box]) -> int | None:
        """The index of the first free box inside the frame, now taken; None when every one
        meets another or leaves the frame."""
        for i, box in enumerate(candidates):
            if self.inside(box) and self.free(box):
                self.occupy(box)
                self.labels.append(box)
                return i
        return None


def symbol_boxes(ax: Axes, min_zorder: float) -> Iterable[Box]:
    """The display boxes of the point symbols drawn on `ax` at or above `min_zorder`: scatter
    markers (their size is an area in points²) and line markers (a size in points)."""
    px = ax.figure.dpi / 72
    for coll in ax.collections:
        if not isinstance(coll, PathCollection) or coll.get_zorder() < min_zorder:
            continue
        offsets = np.asarray(coll.get_offsets(), dtype=float)
        if not len(offsets):
            continue
        centres = coll.get_offset_transform().transform(offsets)
        sizes = np.broadcast_to(np.asarray(coll.get_sizes(), dtype=float), (len(centres),)) \
            if len(coll.get_sizes()) else np.full(len(centres), 36.0)
        for (x, y), s in zip(centres, sizes):
            r = math.sqrt(s) / 2 * px
            yield (x - r, y - r, x + r, y + r)
    for line in ax.lines:
        if line.get_zorder() < min_zorder or line.get_marker() in (None, "None", "", " "):
            continue
        r = line.get_markersize() / 2 * px
        for x, y in line.get_transform().transform(np.column_stack(line.get_data())):
            yield (x - r, y - r, x + r, y + r)


def _put(text: Text, position: tuple[float, float, Any, Any], gap: float) -> None:
    ax, fig = text.axes, text.figure
    assert ax is not None and fig is not None
    dx, dy, ha, va = position
    text.set_transform(ax.transData + ScaledTranslation(dx * gap / 72, dy * gap / 72,
                                                        fig.dpi_scale_trans))
    text.set_horizontalalignment(ha)
    text.set_verticalalignment(va)


def place(text: Text, placer: Placer, renderer, scale: float = 1.0) -> bool:
    """Move `text` (at its point, in data coordinates) to the first free position of
    `POSITIONS` inside the frame, ring by ring outward from the symbol at its point; a
    leader line joins a label on an outer ring to its point. False, and the text hidden, when
    no place is free. The text is measured once: its box at each place follows from the
    alignment (laying out a Chinese name costs milliseconds, and a name may try 48 places)."""
    ax = text.axes
    assert ax is not None
    px = ax.figure.dpi / 72
    x, y = ax.transData.transform(text.get_position())
    base = max(GAP * scale, placer.widest_at(x, y) / px + 2 * scale)
    _put(text, POSITIONS[0], 0.0)
    extent = text.get_window_extent(renderer)
    w, h = extent.width, extent.height
    for ring, extra in enumerate(RINGS):
        gap = base + extra * scale
        boxes = [_box(x + dx * gap * px, y + dy * gap * px, w, h, ha, va) for dx, dy, ha, va in POSITIONS]
        chosen = placer.take_first_free(boxes)
        if chosen is None:
            continue
        _put(text, POSITIONS[chosen], gap)
        if ring:
            _leader(text, (x, y), boxes[chosen], (base - 2 * scale) * px, scale)
        return True
    text.set_visible(False)
    placer.dropped.append(text.get_text())
    return False


def _box(ax_: float, ay: float, w: float, h: float, ha: str, va: str) -> Box:
    """The box of a w × h text anchored at (ax_, ay) with this alignment, as matplotlib sets it."""
    x0 = ax_ - {"left": 0.0, "center": w / 2, "right": w}[ha]
    y0 = ay - {"bottom": 0.0, "center": h / 2, "top": h}[va]
    return (x0, y0, x0 + w, y0 + h)


def _leader(text: Text, point: tuple[float, float], box: Box, clear: float, scale: float) -> None:
    """A thin line to the nearest edge of a label's box from the rim of the symbol at its
    point (`clear` pixels from it), so it does not cross the symbol."""
    ax = text.axes
    assert ax is not None
    x, y = point
    ex = min(max(x, box[0]), box[2])
    ey = min(max(y, box[1]), box[3])
    length = math.hypot(ex - x, ey - y)
    if length <= clear:
        return
    sx, sy = x + (ex - x) * clear / length, y + (ey - y) * clear / length
    inv = ax.transData.inverted()
    (dx0, dy0), (dx1, dy1) = inv.transform([(sx, sy), (ex, ey)])
    cast(Axes, ax).plot([dx0, dx1], [dy0, dy1], color="#777", linewidth=0.5 * scale,
                        zorder=text.get_zorder() - 0.5, solid_capstyle="butt")
