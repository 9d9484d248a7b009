"""One style for every surface: a city shaded by a count is drawn in the colour of the legend
class that holds its count, and the live map's classes are the print map's."""

from __future__ import annotations

import re

import pytest
from matplotlib.collections import Collection
from matplotlib.colors import to_rgba
from matplotlib.legend import Legend
from matplotlib.patches import Patch

from layers import style
from server.exports.printmap import render_figure, scene
from server.view.params import EXPORT, known_values, parse_view
from tests.test_maps import page

CLASS_LABEL = re.compile(r"(?:^|\s)(≥ ?)?(\d+)(?:–(\d+))?$")


def legend_classes(fig) -> list[tuple[str, tuple]]:
    """(label, fill RGBA) of every legend swatch that names a range of counts."""
    out = []
    legends = {id(a): a for a in fig.axes[-1].get_children() if isinstance(a, Legend)}  # once each
    for leg in legends.values():
        for handle, text in zip(leg.legend_handles, leg.get_texts()):
            label = text.get_text().replace("\n", " ")
            if isinstance(handle, Patch) and CLASS_LABEL.search(label):
                out.append((label, tuple(handle.get_facecolor())))
    return out


def holds(label: str, value: int) -> bool:
    m = CLASS_LABEL.search(label)
    assert m is not None
    at_least, lo, hi = m.group(1), int(m.group(2)), m.group(3)
    if at_least:
        return value >= lo
    return lo <= value <= (int(hi) if hi else lo)


def city_fills(fig) -> dict[int, tuple]:
    """The fill drawn for each city, by its code (the collections are named city-<adcode>)."""
    out = {}
    for coll in fig.axes[0].get_children():
        gid = coll.get_gid() if isinstance(coll, Collection) else None
        if gid and gid.startswith("city-"):
            fc = coll.get_facecolor()
            out[int(gid[5:])] = tuple(fc[0]) if len(fc) else (0.0, 0.0, 0.0, 0.0)  # "none"
    return out


def shaded_figure(app, measure: str, lang: str = "zh"):
    with app.app_context():
        store = app.extensions["atlas_store"]
        sc = scene(store, parse_view({"measure": [measure], "lang": [lang]}, EXPORT, known_values(store)))
        return sc, render_figure(sc)


@pytest.mark.parametrize("measure", ["n_parks", "n_projects"])
def test_each_city_is_filled_in_the_colour_of_the_legend_class_holding_its_count(app, measure):
    sc, fig = shaded_figure(app, measure)
    classes = legend_classes(fig)
    fills = city_fills(fig)
    assert len(classes) >= 2 and set(fills) <= set(sc.shading) and len(fills) > 17
    for adcode, fill in fills.items():
        value = sc.shading[adcode]
        holding = [colour for label, colour in classes if holds(label, int(value))]
        if value == 0:  # in no class, and not drawn like one
            assert holding == [] and fill not in {c for _, c in classes}, adcode
        else:
            assert len(holding) == 1, (adcode, value, classes)
            assert fill == holding[0], (adcode, value, fill, holding[0])


def test_a_city_with_one_park_is_in_the_first_class(app):
    sc, fig = shaded_figure(app, "n_parks", "en")
    one = next(a for a, v in sc.shading.items() if v == 1)
    first_label, first_colour = legend_classes(fig)[0]
    assert holds(first_label, 1) and city_fills(fig)[one] == first_colour


@pytest.mark.parametrize("measure", ["n_parks", "n_projects"])
def test_the_live_map_carries_the_classes_print_draws(client, app, measure):
    _, _, data = page(client, f"/?measure={measure}")
    live = [(c["label"], to_rgba(c["colour"], data["style"]["shade_opacity"]))
            for c in data["style"]["classes"][measure]]
    _, fig = shaded_figure(app, measure)
    assert live == legend_classes(fig)


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
