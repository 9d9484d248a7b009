"""Print maps on the real build: every view draws inside its frame; the circles of features
sharing a point are sized by their count and resolved by a key table; names and circle
letters cover no symbol, no furniture, no other label and stay inside the frame
(server/exports/labels.py, an R-tree of the boxes taken so far). tests/unit/test_labels.py
checks the placer alone; tests/web/test_exports.py the files the routes answer.

The facts are read from the drawn page (`printmap.draw_page`: its axes, the placer's boxes,
the key table) at 72 dpi rather than decoded from pixels; a few views are checked in pixels."""

from __future__ import annotations

import io
import math
import re

import pytest
from PIL import Image

from layers.registry import records
from server.exports import labels, printmap
from server.view.params import EXPORT, known_values, parse_view

CORRIDOR = "c001-han-xiao-sui-xiang-shi-auto-corridor"
FIVE = {"hubei": {}, "corridor": {"cluster": CORRIDOR}, "wuhan": {"city": "420100"},
        "xianning": {"city": "421200"}, "guangshui": {"cluster": "c001-guangshui-fans"},
        "filtered": {"sector": "auto", "kind": "high_tech_zone"}}


def draw(store, query: dict, paper: str = "A4") -> printmap.Page:
    q = {k: [v] for k, v in {**query, "dpi": "72", "paper": paper}.items()}
    return printmap.draw_page(printmap.scene(store, parse_view(q, EXPORT, known_values(store))))


def meets(a, b) -> bool:
    return a[0] < b[2] - 0.5 and b[0] < a[2] - 0.5 and a[1] < b[3] - 0.5 and b[1] < a[3] - 0.5


def facts(page: printmap.Page) -> dict:
    """What a reader checks on a page, as data: the frame, the symbols drawn inside it, the
    placed labels and the obstacles they must clear, the key table."""
    ax = page.ax
    renderer = page.fig.canvas.get_renderer()
    frame = tuple(ax.get_window_extent(renderer).extents)
    symbols = list(labels.symbol_boxes(ax, printmap.POINT_ZORDER))
    centres = [((b[0] + b[2]) / 2, (b[1] + b[3]) / 2) for b in symbols]
    inside = [c for c in centres if frame[0] <= c[0] <= frame[2] and frame[1] <= c[1] <= frame[3]]
    areas = [c for c in ax.collections if c.get_zorder() >= 3 and len(c.get_paths())]  # members, areas
    return {"frame": frame, "symbols_inside": len(inside), "areas": len(areas),
            "labels": list(page.placer.labels), "obstacles": list(page.placer.symbols),
            "shown": [tuple(t.get_window_extent(renderer).extents) for t in ax.texts
                      if t.get_visible() and t.get_zorder() in (9, 11) and t.get_color() != "white"],
            "inner_frame": page.placer.frame, "dropped": list(page.placer.dropped)}


def check_page(page: printmap.Page) -> None:
    f = facts(page)
    assert f["symbols_inside"] + f["areas"] > 0, "a blank frame"
    placed = f["labels"]
    assert len(f["shown"]) == len(placed)
    for drawn in f["shown"]:  # every name is drawn where the placer put its box
        assert any(all(abs(a - b) < 1.5 for a, b in zip(drawn, box)) for box in placed), drawn
    fx0, fy0, fx1, fy1 = f["inner_frame"]
    for i, box in enumerate(placed):
        assert fx0 <= box[0] and fy0 <= box[1] and box[2] <= fx1 and box[3] <= fy1, box
        assert not any(meets(box, s) for s in f["obstacles"]), box
        assert not any(meets(box, other) for other in placed[i + 1:]), box


@pytest.fixture(scope="module")
def store(app):
    return app.extensions["atlas_store"]


@pytest.fixture(scope="module")
def five(store):
    return {name: draw(store, q) for name, q in FIVE.items()}


@pytest.mark.parametrize("name", list(FIVE))
def test_the_five_views_draw_inside_the_frame_and_labels_clear_everything(five, name):
    check_page(five[name])


def test_city_names_are_all_placed_on_the_province_map(five):
    page = five["hubei"]
    assert page.placer.dropped == []
    assert len(page.placer.labels) >= 17 + len(page.drawn.stacks)


def test_shared_points_are_circles_sized_by_count(five):
    ax = five["hubei"].ax
    circles = {c.get_gid(): math.sqrt(c.get_sizes()[0]) for c in ax.collections
               if (c.get_gid() or "").startswith("shared-")}
    counts = {f"shared-{s.key}": len(s.items) for s in five["hubei"].drawn.stacks}
    assert set(circles) == set(counts) and len(counts) > 5
    small = min(counts, key=counts.__getitem__)
    big = max(counts, key=counts.__getitem__)
    assert counts[big] >= 30  # Wuhan's city point
    # area ∝ count: the diameters go as the square roots
    assert math.isclose((circles[big] / circles[small]) ** 2, counts[big] / counts[small], rel_tol=1e-6)


@pytest.mark.parametrize("name", ["hubei", "wuhan", "corridor", "xianning"])
def test_the_key_table_accounts_for_every_feature_at_a_shared_point(five, name):
    page = five[name]
    stacks = page.drawn.stacks
    assert stacks and [s.key for s in stacks] == [printmap.key_letter(i) for i in range(len(stacks))]
    rows = page.key.rows
    assert len(rows) == len(stacks)
    for (head, lines, more), st in zip(rows, stacks):
        assert head.startswith(f"{st.key}  ") and head.endswith(f" · {len(st.items)}")
        assert len(lines) + more == len(st.items)
        names = [printmap.feature_name(r, "zh") for _, r in st.items]
        assert all(line.split(" · ")[0] in names for line in lines)
    # the letters on the map are the table's
    tags = {t.get_gid()[len("shared-key-"):] for t in page.ax.texts
            if (t.get_gid() or "").startswith("shared-key-") and t.get_visible()}
    assert tags == {s.key for s in stacks}
    # the key band's text says how many a cut list leaves out
    texts = [t.get_text() for a in page.fig.axes for t in a.texts]
    for (_, lines, more) in rows:
        if more and lines:
            assert f"……另有 {more} 个" in [t.strip() for t in texts]


def test_a_short_key_lists_everything(five):
    rows = five["guangshui"].key.rows + five["corridor"].key.rows
    small = [r for r in rows if len(r[1]) + r[2] <= 4]
    assert small and all(more == 0 for _, _, more in small)


def test_a3_has_its_own_layout_not_a4_scaled(five):
    a4 = five["wuhan"].layout
    lines = sum(1 + len(s.items) for s in five["wuhan"].drawn.stacks)
    a3 = printmap.page_layout("A3", 420 / 25.4, 297 / 25.4, key_lines=lines)  # as draw_page asks
    assert a3.scale < math.sqrt(2) * 0.9  # text nearly A4's size, not 1.41 times it
    assert a3.map_box[2] * a3.map_box[3] > a4.map_box[2] * a4.map_box[3]  # a larger share of a larger page
    assert a3.legend_box[2] < a4.legend_box[2]
    assert a3.key_box is not None and a4.key_box is not None
    # the key gets more lines on A3: a taller band, in points, over more columns
    assert a3.key_box[3] * 297 > a4.key_box[3] * 210


def test_the_scale_bar_box_holds_its_numbers(five):
    from matplotlib.patches import FancyBboxPatch

    ax = five["hubei"].ax
    renderer = five["hubei"].fig.canvas.get_renderer()
    box = next(p for p in ax.patches if isinstance(p, FancyBboxPatch) and p.get_gid() == "scale-bar")
    bb = box.get_window_extent(renderer)
    caption = next(t for t in ax.texts if re.fullmatch(r"\d+ 公里", t.get_text()))
    cb = caption.get_window_extent(renderer)
    assert bb.x0 <= cb.x0 and cb.x1 <= bb.x1 and bb.y0 <= cb.y0 and cb.y1 <= bb.y1


def test_pixels_inside_the_frame_are_drawn(client):
    for query in ("city=421200", "cluster=c001-guangshui-fans"):
        img = Image.open(io.BytesIO(client.get(f"/export/map.png?{query}&dpi=72").data)).convert("RGB")
        w, h = img.size
        inner = img.crop((int(w * 0.06), int(h * 0.2), int(w * 0.6), int(h * 0.6)))
        assert len(inner.getcolors(maxcolors=1 << 20)) > 100, query


def test_svg_glyphs_are_paths_and_every_text_has_a_fallback_family(client):
    svg = client.get("/export/map.svg?city=420100&dpi=72").get_data(as_text=True)
    families = re.findall(r"font-family[:=]\s*\"?([^;\">]+)", svg)
    assert families and all(f.rstrip().endswith("sans-serif") for f in families), families
    layer = svg[svg.index('<g id="text-layer"'):]
    assert 'fill-opacity="0"' in layer[:200]
    assert svg.count("<text") == layer.count("<text")  # every <text> is in the transparent layer
    assert "武汉市" in layer and "资料来源" in layer
    assert "<use xlink:href" in svg  # the visible glyphs are paths


@pytest.mark.slow
def test_every_cluster_every_hubei_city_and_a_filter_draw_inside_the_frame(store):
    clusters = [r["id"] for r in records(store.layer("clusters"))]
    cities = [str(int(a)) for a in store.layer("cities").adcode if str(int(a)).startswith("42")]
    assert len(clusters) == 38 and len(cities) >= 17
    for query in [{"cluster": c} for c in clusters] + [{"city": c} for c in cities] + [FIVE["filtered"]]:
        page = draw(store, query)
        check_page(page)
        for (_, lines, more), st in zip(page.key.rows, page.drawn.stacks):
            assert len(lines) + more == len(st.items), query


def test_the_count_key_is_drawn_not_typed(five):
    # with mathtext off, a "$n$" marker would print the dollar signs
    from matplotlib.legend import Legend

    legends = [a for a in five["hubei"].fig.axes[-1].get_children() if isinstance(a, Legend)]
    markers = [h.get_marker() for leg in legends for h in leg.legend_handles if hasattr(h, "get_marker")]
    assert markers and not any(isinstance(m, str) and "$" in m for m in markers)
