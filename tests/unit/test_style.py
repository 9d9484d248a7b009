"""The style rules without an app (layers/style.py): the shading classes, a corridor's one
colour, print symbols as wide as on screen. tests/web/test_style.py compares the surfaces."""

from __future__ import annotations

import math

from layers import style


def test_class_edges_double_then_follow_the_largest_count():
    assert style.class_edges([]) == [1]
    assert style.class_edges([0, 1]) == [1]
    assert style.class_edges([3, 1]) == [1, 2]
    assert style.class_edges([32]) == [1, 2, 4, 8, 16]
    assert style.class_edges([48, 2]) == [1, 5, 12, 24, 36]
    labels = [c.label for c in style.shade_classes([48])]
    assert labels == ["1–4", "5–11", "12–23", "24–35", "≥ 36"]
    assert [c.label for c in style.shade_classes([3])] == ["1", "≥ 2"]
    assert style.class_of(0, style.shade_classes([48])) is None
    assert style.class_of(36, style.shade_classes([48])).colour == style.SHADES[-1]


def test_a_corridor_keeps_its_colour_whatever_the_view():
    index = {"auto": 0, "marine": 7}
    assert style.line_colour(["marine", "auto"], index) == style.SECTOR_COLOURS[7]
    assert style.line_colour([], index) == style.NO_SECTOR
    assert style.line_colour(["unknown"], index) == style.NO_SECTOR


def test_print_symbols_are_as_wide_on_a4_as_on_the_screen():
    from server.exports import printmap

    for sym in style.SYMBOLS.values():
        marker, reach = printmap.MARKERS[sym.shape]
        assert math.isclose(printmap.marker_size(sym) * reach, sym.size * 72 / 96)
    assert printmap.stroke_width(True) > printmap.stroke_width(False)
