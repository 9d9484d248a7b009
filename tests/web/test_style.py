"""One style for every surface: a city shaded by a count is drawn in the colour of the legend
class that holds its count, and the live map's classes are the print map's; a corridor line has
one colour and a point one symbol size on the live map, on paper and on the offline page.
tests/unit/test_style.py checks the rules themselves without an app."""

from __future__ import annotations

import json
import math
import re

import pytest
from matplotlib.collections import Collection
from matplotlib.colors import to_rgba
from matplotlib.legend import Legend
from matplotlib.patches import Patch

from layers import style
from layers.registry import records
from server.exports.printmap import render_figure, scene
from server.view.params import EXPORT, known_values, parse_view
from tests.web.test_maps import page

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


# ---------------------------------------------------------------- lines and symbols, every surface

def surfaces(app, client, args: dict[str, str]) -> dict[str, dict]:
    """For one view, as each surface draws it: each corridor line's colour ("lines": id → colour)
    and each point's symbol size class ("points": "layer/id" → SYMBOLS key) — the live map's page
    data, the print figure (artists named by gid), the offline page's folium map."""
    import folium

    from server.exports import offline, printmap

    query = "&".join(f"{k}={v}" for k, v in args.items())
    _, _, data = page(client, f"/?{query}" if "cluster" not in args else f"/cluster/{args['cluster']}")
    symbols = data["style"]["symbols"]
    live = {"lines": {}, "points": {}}
    for lay in data["layers"]:
        for p in lay["features"]:
            if lay["id"] == "cluster_lines":
                live["lines"][p["id"]] = p["color"]
            elif lay["id"] in ("parks", "projects") and p["xy"]:
                live["points"][f"{lay['id']}/{p['id']}"] = live_symbol(lay["id"], p, symbols)
    with app.app_context():
        store = app.extensions["atlas_store"]
        view = parse_view({k: [v] for k, v in args.items()}, EXPORT, known_values(store))
        sc = scene(store, view)
        fig = render_figure(sc)
        m, _ = offline.build_map(store, view)
    scale = printmap.page_layout(view.paper, *view.size_inches).scale  # each paper's own
    paper = {"lines": {}, "points": {}}
    for artist in fig.axes[0].get_children():
        gid = artist.get_gid() or ""
        if gid.startswith("cluster_lines-"):
            paper["lines"][gid[len("cluster_lines-"):]] = artist.get_color()
        elif gid.startswith(("parks-", "projects-")):
            across = math.sqrt(artist.get_sizes()[0])
            paper["points"][gid.replace("-", "/", 1)] = next(
                k for k, s in style.SYMBOLS.items() if math.isclose(printmap.marker_size(s, scale), across))
    names = {rec["name_zh"]: rec["id"] for rec in records(sc.lines)}
    html: dict[str, dict] = {"lines": {}, "points": {}}
    for child in walk(m):
        if isinstance(child, folium.PolyLine):
            tip = next(c for c in child._children.values() if isinstance(c, folium.Tooltip))
            html["lines"][names[tip.text]] = child.options["color"]
    # the offline page's points: drawn by the live map's symbol maker from the page's own data
    text = client.get("/export/map.html?" + query).get_data(as_text=True)
    data = json.loads(re.search(r'id="atlx-data">(.*?)</script>', text, re.S).group(1))
    for lay in data["layers"]:
        if lay["id"] in ("parks", "projects"):
            for p in lay["features"]:
                html["points"][f"{lay['id']}/{p['id']}"] = live_symbol(lay["id"], p, data["style"]["symbols"])
    return {"live": live, "print": paper, "offline": html}


def live_symbol(lid: str, p: dict, symbols: dict) -> str:
    """The size class static/atlas/points.js gives a point (symbolKey), checked against the page's table."""
    key = "project" if lid == "projects" else p["level"] if p["level"] in ("national", "provincial") \
        else "park"
    assert symbols[key]["size"] == style.SYMBOLS[key].size
    return key


def walk(element):
    yield element
    for child in element._children.values():
        yield from walk(child)


CORRIDOR_ID = "c001-han-xiao-sui-xiang-shi-auto-corridor"


@pytest.mark.parametrize("args", [{}, {"sector": "marine"}, {"cluster": CORRIDOR_ID}],
                         ids=["province", "one-industry", "corridor"])
def test_a_corridor_and_a_point_look_the_same_on_screen_on_paper_and_offline(app, client, args):
    seen = surfaces(app, client, args)
    live, paper, html = seen["live"], seen["print"], seen["offline"]
    assert paper["lines"] and paper["lines"] == html["lines"]
    for lid, colour in paper["lines"].items():  # the screen draws every line; print what the view keeps
        assert live["lines"][lid] == colour, lid
    assert paper["points"] and set(paper["points"]) <= set(html["points"])
    for key, cls in html["points"].items():  # print draws a point shared by several as one badge
        assert live["points"][key] == cls, key
        assert paper["points"].get(key, cls) == cls, key
    assert len(set(html["points"].values())) >= 3  # more than one size class is compared


