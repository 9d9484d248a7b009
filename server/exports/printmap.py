"""Print maps: any view of the atlas as a PNG, SVG or PDF page, rendered with matplotlib.

A page carries what a briefing needs and a screenshot lacks: a title, a legend for exactly
what is drawn, a scale bar, a north arrow, city labels (and the numbered members of a
cluster), a source line naming the documents behind what is drawn and the build date, and
the map-approval number (审图号) when one is configured.

Features placed only at a town's, district's, county's or city's point keep the interactive
map's hollow, dashed style, and features sharing one such point are drawn as one circle with
their count (its area grows with the count) and a letter that a key table beside the map
resolves into what the circle holds: a printed map must not look more precise than the data,
nor leave a reader guessing what a circle counts.

Each paper has its own layout (`page_layout`): A3 keeps A4's text size, nearly, and gives the
room it gains to the map and the key, rather than printing A4 larger.

The map is drawn in a Lambert conformal conic projection centred on the view, so north is
up at the centre and the scale bar holds across a province. Framework-free: `render()`
returns bytes.
"""

from __future__ import annotations

import io
import math
import re
import textwrap
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast
from xml.sax.saxutils import escape as xml_escape

import geopandas as gpd
import matplotlib
import shapely
from matplotlib import font_manager
from matplotlib.artist import Artist
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import PathCollection
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Circle, FancyBboxPatch, Patch, Polygon, Rectangle
from matplotlib.patheffects import withStroke
from matplotlib.text import Text
from matplotlib.textpath import TextPath
from pyproj import CRS, Transformer

from layers import style
from layers.admin import Units
from layers.registry import ADMIN_LAYERS, LAYERS, records
from layers.words import KINDS, LEVELS, WORDS, label, say
from server.exports import labels
from server.store.query import cited_docs
from server.view import rules as viewrules
from server.view.export import view_extent
from server.view.params import View
from server.view.sourceline import source_line

REPO = Path(__file__).resolve().parents[2]
POINT_ZORDER = 6  # parks and projects; shared-point circles, member badges and names above
FONT_DIR = REPO / "static" / "vendor" / "fonts"
FONT_FILES = ("NotoSansSC-Regular.ttf", "NotoSansSC-Bold.ttf")
FONT_FAMILY = "Noto Sans SC"
HYDRO_DIR = REPO / "static" / "vendor" / "hydro"
APPROX = ("town", "district", "county", "city", "province")
SOFTWARE = "Hubei Cluster Atlas"

class FontMissing(RuntimeError):
    """The CJK font is not installed: exports would print empty boxes instead of Chinese."""


_fonts_ready = False


def ensure_fonts() -> None:
    """Register the vendored Noto Sans SC with matplotlib once (no system font needed)."""
    global _fonts_ready
    if _fonts_ready:
        return
    paths = [FONT_DIR / name for name in FONT_FILES]
    missing = [p.name for p in paths if not p.is_file()]
    if missing:
        raise FontMissing(f"map font {', '.join(missing)} not found in static/vendor/fonts: "
                          "run `make setup`")
    # every string drawn is the user's or the sources' words: `$…$` is money, not a formula
    matplotlib.rcParams["text.parse_math"] = False
    for path in paths:
        font_manager.fontManager.addfont(str(path))
    matplotlib.rcParams.update({
        "font.family": FONT_FAMILY, "font.size": 9,
        "pdf.fonttype": 42,  # embed TrueType (subset): text stays selectable and searchable
        # SVG draws its glyphs as paths, so it looks the same without the font installed;
        # an invisible text layer (svg_text_layer) keeps it selectable and searchable
        "svg.fonttype": "path",
        "axes.unicode_minus": False,
    })
    _fonts_ready = True


# ---------------------------------------------------------------- what is drawn

Box = tuple[float, float, float, float]  # left, bottom, width, height (figure fractions)


@dataclass
class Stack:
    """Features drawn at one shared point (a town's, district's, county's or city's), drawn as
    one circle; `key` is the letter the page gives it when the point is inside the frame."""
    lon: float
    lat: float
    place: str  # whose point it is, e.g. "武汉市 · 市代表点"
    items: list[tuple[str, dict]]  # (layer id, record), in layer then source order
    key: str = ""


def point_groups(points: dict[str, gpd.GeoDataFrame]) -> dict[tuple[float, float], list[tuple[str, dict]]]:
    """The located parks and projects by their point (lon, lat rounded to about a metre)."""
    groups: dict[tuple[float, float], list[tuple[str, dict]]] = defaultdict(list)
    for lid in ("parks", "projects"):
        f = points.get(lid)
        if f is None or not len(f):
            continue
        for r, g in zip(records(f), f.geometry):
            if g is not None:
                groups[(round(g.x, 5), round(g.y, 5))].append((lid, r))
    return groups


def _code(value: Any) -> int | None:
    try:
        return int(value) if value is not None and value == value else None
    except (TypeError, ValueError):
        return None


def stacks_of(points: dict[str, gpd.GeoDataFrame], units: dict, lang: str) -> list[Stack]:
    """The shared points of a view, each named after the unit whose point it is and the
    precision the features have (the words of the live map's "here" list)."""
    out = []
    for (lon, lat), items in point_groups(points).items():
        if len(items) < 2:
            continue
        rec = items[0][1]
        precision = rec.get("precision") or "site"
        adcode = _code(rec.get("county_adcode")) if precision in ("town", "district", "county") else None
        adcode = adcode or _code(rec.get("city_adcode"))
        unit = feature_name(units[adcode], lang) if adcode in units else ""
        where = say(f"prec_{precision}", lang) if f"prec_{precision}" in WORDS else precision
        out.append(Stack(lon, lat, f"{unit} · {where}" if unit else where, items))
    return out


def key_letter(i: int) -> str:
    """A, B, … Z, AA, AB, …: the letter of the i-th shared point (from 0)."""
    letters = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        letters = chr(65 + r) + letters
    return letters


@dataclass
class Scene:
    """The features one view draws, in lon/lat, and the words around them."""
    view: View
    extent: tuple[float, float, float, float]
    title: str
    subtitle: str
    polygons: dict[str, gpd.GeoDataFrame]
    lines: gpd.GeoDataFrame | None
    points: dict[str, gpd.GeoDataFrame]
    labels: list[tuple[float, float, str, bool]]  # lon, lat, name, is a city
    members: list[dict]  # cluster view: {n, adcode, name, role, lon, lat}
    member_units: set[int]
    docs: list[dict]  # documents cited by what is drawn
    meta: dict
    sectors: list[dict]
    shading: dict[int, int | bool] = field(default_factory=dict)  # city adcode -> value
    stacks: list[Stack] = field(default_factory=list)  # features sharing one point
    drawn: Drawn | None = None  # what render_figure drew, for a legend made beside it (the deck)

    @property
    def classes(self) -> list[style.ShadeClass]:
        """The shading classes of a count measure, from every city's count (as the live map's)."""
        if self.view.measure.startswith("sector:"):
            return []
        return style.shade_classes(int(v) for v in self.shading.values())


def feature_name(rec: dict, lang: str) -> str:
    zh, en = rec.get("name_zh") or "", rec.get("name_en") or ""
    return zh if lang == "zh" else (en or zh)


def wrap(text: str, limit: int) -> list[str]:
    """Lines of at most `limit` characters, broken after a space, a dash or a Chinese
    separator where possible (place-name chains like 武汉–孝感–随州 break at their dashes)."""
    tokens = [t for t in re.split(r"(?<=[ –—、；，,;/])", text) if t]
    lines, line = [], ""
    for tok in tokens:
        while len(tok) > limit:  # a run with no break point (Chinese text): cut it
            room = limit - len(line)
            while 0 < room < len(tok) and (tok[room - 1] + tok[room]).isascii() and \
                    (tok[room - 1] + tok[room]).isalnum():
                room -= 1  # never inside a number or a Latin word
            room = room or limit - len(line)
            line, tok = line + tok[:room], tok[room:]
            lines.append(line.rstrip())
            line = ""
        if len(line) + len(tok.rstrip()) > limit:
            lines.append(line.rstrip())
            line = ""
        line += tok
    if line.strip():
        lines.append(line.rstrip())
    return lines


def scene(store, view: View) -> Scene:
    """Select what the view shows from the current build."""
    meta = store.meta
    lang = view.lang
    frames = {lid: store.layer(lid) for lid in LAYERS}
    admin = Units(frames)
    units, city_of = admin.rows, admin.city_of

    layers = set(view.layers)
    cluster = None
    if view.cluster:
        cluster = next(r for r in records(frames["clusters"]) if r["id"] == view.cluster)
        layers = {"provinces", "cities", "cluster_lines", "parks", "projects"}

    polygons: dict[str, gpd.GeoDataFrame] = {}
    if view.city is not None:
        layers.add("counties")  # a city's map shows its counties
    for lid in ADMIN_LAYERS:
        if lid in layers or (lid == "cities" and view.measure != "none"):
            polygons[lid] = store.layer(lid, "mid" if LAYERS[lid].simplified else None)
    polygons.setdefault("provinces", store.layer("provinces", "mid"))  # the page's ground
    member_units: set[int] = set()
    if cluster is not None:
        member_units = {int(a) for a in cluster.get("members") or []}
        cl = store.layer("clusters", "mid")
        polygons["clusters"] = cl[cl.id == cluster["id"]]
        co = store.layer("counties", "mid")
        co = co[co.adcode.astype(int).isin(member_units)]
        if len(co) and "counties" not in polygons:  # county members are outlined and shaded as cities
            polygons["counties"] = co
    elif "clusters" in layers:
        cl = store.layer("clusters", "mid")
        keep = [viewrules.area_visible(r, viewrules.member_cities(r.get("members") or [], city_of),
                                       sector=view.sector, city=view.city) for r in records(cl)]
        polygons["clusters"] = cl[keep]

    lines = None
    if "cluster_lines" in layers:
        fl = frames["cluster_lines"]
        recs = records(fl)
        if cluster is not None:
            keep = [r["id"] == cluster["id"] for r in recs]
        else:
            keep = [viewrules.area_visible(r, viewrules.member_cities(r.get("members") or [], city_of),
                                           sector=view.sector, city=view.city) for r in recs]
        lines = fl[keep]

    points: dict[str, gpd.GeoDataFrame] = {}
    for lid in ("parks", "projects"):
        if lid not in layers:
            continue
        f = frames[lid]
        recs = records(f)
        if cluster is not None:
            keep = [viewrules.along_cluster(r, cluster) for r in recs]
        else:
            keep = [viewrules.point_visible(lid, r, sector=view.sector, city=view.city,
                                            kind=view.kind, level=view.level, named=view.named)
                    for r in recs]
        points[lid] = f[keep]

    extent = view_extent(view, frames, member_units)  # one rule with the deck and the offline page

    box = shapely.box(*extent)
    labels = []
    for r, g in zip(records(frames["cities"]), frames["cities"].geometry):
        p = g.representative_point()
        if box.contains(p):
            labels.append((p.x, p.y, feature_name(r, lang), True))
    if view.city is not None:
        for r, g in zip(records(frames["counties"]), frames["counties"].geometry):
            if city_of(int(r["adcode"])) == view.city and int(r["adcode"]) != view.city:
                p = g.representative_point()
                labels.append((p.x, p.y, feature_name(r, lang), False))

    members = []
    if cluster is not None:
        roles = {m["adcode"]: m for m in cluster.get("member_roles") or []}
        for i, a in enumerate(cluster.get("members") or [], 1):
            a = int(a)
            unit = units.get(a, {})
            geom = None
            for lid in ("cities", "counties", "provinces"):
                f = frames[lid]
                hit = f[f.adcode.astype(int) == a]
                if len(hit):
                    geom = hit.geometry.iloc[0].representative_point()
                    break
            role = roles.get(a) or {}
            members.append({"n": i, "adcode": a, "name": feature_name(unit, lang) if unit else str(a),
                            "role": (role.get("role_zh") if lang == "zh" else
                                     role.get("role_en") or role.get("role_zh")) or "",
                            "sources": role.get("sources") or [],
                            "lon": geom.x if geom is not None else None,
                            "lat": geom.y if geom is not None else None})

    cited: set[str] = set()
    for f in list(points.values()) + ([lines] if lines is not None else []) + \
            ([polygons["clusters"]] if "clusters" in polygons else []):
        for r in records(f):
            cited_docs(r, cited)
    for m in members:
        cited_docs(m["sources"], cited)
    shading: dict[int, int | bool] = {}
    if view.measure in ("n_parks", "n_projects"):
        cities = frames["cities"]
        shading = {int(a): int(v or 0) for a, v in zip(cities.adcode, cities[view.measure])}
    elif view.measure.startswith("sector:"):
        code = view.measure[7:]
        has = {int(a) for a, s in zip(frames["cities"].adcode, frames["cities"].sectors)
               if code in (s or [])}
        for lid in ("parks", "projects"):
            for r in records(frames[lid]):
                if code in (r.get("sectors") or []):
                    has.add(int(r["city_adcode"]))
        counties = frames["counties"]
        for a, s in zip(counties.adcode, counties.sectors):
            city = city_of(int(a))
            if code in (s or []) and city:
                has.add(city)
        shading = {int(a): int(a) in has for a in frames["cities"].adcode}
        for r in records(frames["cities"]):
            if int(r["adcode"]) in has:
                cited_docs(r.get("roles"), cited)
    docs = [d for d in meta.get("documents", []) if d.get("doc") in cited]

    title, subtitle = _titles(view, cluster, meta, units)
    return Scene(view, extent, title, subtitle, polygons, lines, points, labels, members,
                 member_units, docs, meta, meta.get("sectors", []), shading,
                 stacks_of(points, units, lang))


def sector_name(meta: dict, code: str, lang: str) -> str:
    s = next((s for s in meta.get("sectors", []) if s["code"] == code), None)
    if s is None:
        return code
    return s["name_zh"] if lang == "zh" else s["name_en"].split(" (")[0]


def _titles(view: View, cluster: dict | None, meta: dict, units: dict) -> tuple[str, str]:
    lang = view.lang
    if cluster is not None:
        auto = feature_name(cluster, lang)
    elif len(view.layers) == 1:
        layer = LAYERS[view.layers[0]]
        auto = layer.title_zh if lang == "zh" else layer.title_en
    else:
        auto = say("title", lang)
    parts = []
    if view.sector:
        parts.append(sector_name(meta, view.sector, lang))
    if view.city is not None and view.city in units:
        parts.append(feature_name(units[view.city], lang))
    if view.kind:
        parts.append(label(KINDS, view.kind, lang))
    if view.level:
        parts.append(label(LEVELS, view.level, lang))
    if view.named:
        parts.append(say("named_" + view.named, lang))
    sub = (say("filters_line", lang) + (" · ".join(parts))) if parts else ""
    if cluster is not None and view.title:
        sub = auto
    if not view.title and parts and cluster is None:
        auto = f"{auto} — {' · '.join(parts)}"
        sub = ""
    return (view.title or auto), sub


# ---------------------------------------------------------------- drawing

def projection(extent: tuple[float, ...]) -> CRS:
    x0, y0, x1, y1 = extent
    lon0, lat0 = (x0 + x1) / 2, (y0 + y1) / 2
    span = max(y1 - y0, 0.5)
    return CRS.from_proj4(f"+proj=lcc +lat_0={lat0:.4f} +lon_0={lon0:.4f} +lat_1={lat0 - span / 4:.4f} "
                          f"+lat_2={lat0 + span / 4:.4f} +datum=WGS84 +units=m +no_defs")


def _fit(ax_w: float, ax_h: float, bounds: tuple[float, ...]) -> tuple[float, ...]:
    """Grow the projected box to the axes' aspect so the map fills its frame."""
    x0, y0, x1, y1 = bounds
    w_, h_ = x1 - x0, y1 - y0
    want = ax_w / ax_h
    if w_ / h_ < want:
        grow = (h_ * want - w_) / 2
        x0, x1 = x0 - grow, x1 + grow
    else:
        grow = (w_ / want - h_) / 2
        y0, y1 = y0 - grow, y1 + grow
    return x0, y0, x1, y1


def _nice_length(max_m: float) -> float:
    exp = 10 ** math.floor(math.log10(max_m))
    for f in (5, 2, 1):
        if f * exp <= max_m:
            return f * exp
    return exp


def _read_hydro() -> dict[str, gpd.GeoDataFrame]:
    out = {}
    for name in ("rivers", "lakes"):
        path = HYDRO_DIR / f"{name}.geojson"
        if path.is_file():
            out[name] = gpd.read_file(path)
    return out


_HYDRO: dict[str, gpd.GeoDataFrame] | None = None


def hydro() -> dict[str, gpd.GeoDataFrame]:
    global _HYDRO
    if _HYDRO is None:
        _HYDRO = _read_hydro()
    return _HYDRO


def _draw_polys(ax, frame: gpd.GeoDataFrame, **style) -> None:
    if len(frame):
        frame.plot(ax=ax, **style)


# matplotlib's marker for each shape of layers.style.SYMBOLS, and how far across it reaches
# per point of marker size (a diamond is a square turned: its diagonal is √2 of its side)
MARKERS = {"star": ("*", math.cos(math.radians(18))), "diamond": ("D", math.sqrt(2)),
           "circle": ("o", 1.0), "square": ("s", 1.0)}


def _marker(layer_id: str, level: str | None) -> str:
    return MARKERS[style.symbol(layer_id, level).shape][0]


def marker_size(sym: style.Symbol, scale: float = 1.0) -> float:
    """The matplotlib marker size (points) of a symbol: as wide on an A4 page as on the screen."""
    return sym.size * style.PX_PT / MARKERS[sym.shape][1] * scale


def stroke_width(approx: bool, scale: float = 1.0) -> float:
    """A point's outline (points), from the screen's (layers.style.SOLID, HOLLOW)."""
    return style.stroke(approx).width * style.PX_PT * scale


def dash_pattern(approx: bool) -> tuple[int, tuple[float, ...]] | None:
    """The hollow ring's dashes in matplotlib's units: multiples of the line's width."""
    st = style.stroke(approx)
    return (0, tuple(d / st.width for d in st.dash)) if st.dash else None


@dataclass
class Drawn:
    sectors: Counter = field(default_factory=Counter)
    markers: set = field(default_factory=set)  # (layer, level)
    exact: bool = False
    approx: bool = False
    stacks: list[Stack] = field(default_factory=list)  # the shared points inside the frame, lettered
    catalogue_only: bool = False
    line_keys: list = field(default_factory=list)  # (colour, name)
    circles: list = field(default_factory=list)  # (stack, x, y, diameter in points, colour, zorder)


def shared_diameter(n: int, scale: float = 1.0) -> float:
    """A shared point's circle across (points): its area is proportional to its count."""
    return style.SHARED_UNIT * math.sqrt(n) * style.PX_PT * scale


def _draw_points(ax, sc: Scene, to_map: Transformer, scale: float, drawn: Drawn,
                 frame: tuple[float, float, float, float]) -> None:
    sector_index = {s["code"]: i for i, s in enumerate(sc.sectors)}
    for (lon, lat), items in point_groups(sc.points).items():
        if len(items) > 1:
            continue
        x, y = to_map.transform(lon, lat)
        lid, r = items[0]
        sectors = r.get("sectors") or []
        colour = style.lead_colour(sectors, sector_index)
        if sectors:
            drawn.sectors[sectors[0]] += 1
        approx = (r.get("precision") or "") in APPROX  # precision describes the point
        sym = style.symbol(lid, r.get("level"))
        drawn.markers.add((lid, r.get("level") if lid == "parks" else None))
        # zones only in the national catalogue are faded, as on the live map
        alpha = style.CATALOGUE_OPACITY if r.get("named_in_documents") is False else 1.0
        drawn.catalogue_only |= alpha < 1
        drawn.approx |= approx
        drawn.exact |= not approx
        st = style.stroke(approx)
        ax.scatter([x], [y], s=marker_size(sym, scale) ** 2, marker=MARKERS[sym.shape][0],
                   facecolors=style.HOLLOW_FILL if approx else colour,
                   edgecolors=st.colour or colour, linewidths=stroke_width(approx, scale),
                   linestyles=dash_pattern(approx) or "solid", alpha=alpha, zorder=POINT_ZORDER,
                   gid=f"{lid}-{LAYERS[lid].feature_id(r)}")
    # several features on one point: one circle, its area as their count, ringed in the
    # commonest industry's colour; lettered north to south, west to east, so the key table
    # reads in the order the eye finds them; the larger drawn first, the smaller over them
    x0, y0, x1, y1 = frame
    inside = []
    for st_ in sc.stacks:
        x, y = to_map.transform(st_.lon, st_.lat)
        if x0 <= x <= x1 and y0 <= y <= y1:
            inside.append((st_, x, y))
    inside.sort(key=lambda t: (-round(t[0].lat, 2), t[0].lon))
    for i, (st_, _, _) in enumerate(inside):
        st_.key = key_letter(i)
        drawn.stacks.append(st_)
    for k, (st_, x, y) in enumerate(sorted(inside, key=lambda t: -len(t[0].items))):
        items = st_.items
        common = Counter(s for _, r in items for s in (r.get("sectors") or [])[:1])
        colour = style.lead_colour([common.most_common(1)[0][0]] if common else [], sector_index)
        for lid, r in items:
            if r.get("sectors"):
                drawn.sectors[r["sectors"][0]] += 1
            drawn.markers.add((lid, r.get("level") if lid == "parks" else None))
        drawn.approx = True
        d = shared_diameter(len(items), scale)
        z = 7 + k / 1000  # the smaller over the larger
        ax.scatter([x], [y], s=d ** 2, marker="o", facecolors=to_rgba("white", 0.8), edgecolors=colour,
                   linewidths=1.6 * scale, linestyles=(0, (2, 1.2)), zorder=z, gid=f"shared-{st_.key}")
        drawn.circles.append((st_, x, y, d, colour, z))


@dataclass(frozen=True)
class Layout:
    """Where the parts of a page go (figure fractions) and how large its text is."""
    scale: float  # text and symbols, 1 on A4
    margin: float
    title_h: float
    footer_h: float
    map_box: Box
    legend_box: Box
    key_box: Box | None  # the table of shared points, under the map


# per paper and orientation: text scale, the side (or bottom) legend panel's share of the
# page, the key band's largest share and how wide a key column is (points, before the scale).
# A3 holds text near A4's size and gives the room to the map and the key.
PAGES = {
    ("A4", False): (1.0, 0.26, 0.22), ("A4", True): (1.0, 0.24, 0.18),
    ("A3", False): (1.15, 0.21, 0.24), ("A3", True): (1.15, 0.19, 0.2),
}
KEY_COLUMN = {"zh": 118.0, "en": 160.0}  # points, at scale 1
KEY_FONT = 5.8  # points, at scale 1
KEY_LINE = 1.25  # line height, in font sizes


def page_layout(paper: str, wi: float, hi: float, show_title: bool = True, text_scale: float = 1.0,
                key_lines: int = 0, key_size_h: float = 0.0, lang: str = "zh",
                legend: bool = True) -> Layout:
    """The page's boxes: title, map, key band (as tall as `key_lines` need, up to the paper's
    share; at least `key_size_h` points for the size key), legend panel (none without
    `legend`: the map takes its room) and footer."""
    portrait = hi > wi
    known = PAGES.get((paper, portrait))
    if known is None or text_scale != 1.0:  # another size (a slide's picture): A4's shares, scaled
        scale = math.sqrt(wi * hi / (11.69 * 8.27)) * text_scale
        panel, band_max = PAGES[("A4", portrait)][1:]
    else:
        scale, panel, band_max = known
    if not legend:
        panel = 0.0
    margin = 0.025 if not portrait else 0.035
    footer_h = (0.085 if not portrait else 0.07) * scale * (8.27 if not portrait else 11.69) / hi
    title_h = ((0.10 if not portrait else 0.075) * scale * (8.27 if not portrait else 11.69) / hi) \
        if show_title else 0.02
    if portrait:
        legend_box = (margin, footer_h + 0.005, 1 - 2 * margin, panel)
        map_x, map_w, map_bottom = margin, 1 - 2 * margin, footer_h + panel + 0.01
    else:
        map_w = 1 - 2 * margin - panel - 0.01
        map_x, map_bottom = margin, footer_h
        legend_box = (margin + map_w + 0.01, footer_h, 1 - 2 * margin - map_w - 0.01, 1 - title_h - footer_h)
    key_box = None
    if key_lines:
        fs = KEY_FONT * scale
        cols = _key_columns(map_w * wi * 72, scale, lang)
        rows = math.ceil(key_lines / cols) + 1  # and its heading
        want_pt = max(rows * fs * KEY_LINE, key_size_h) + 6 * scale
        band = min(band_max, want_pt / 72 / hi)
        key_box = (map_x, map_bottom, map_w, band)
        map_bottom += band + 0.012
    map_box = (map_x, map_bottom, map_w, 1 - title_h - map_bottom)
    return Layout(scale, margin, title_h, footer_h, map_box, legend_box, key_box)


SIZE_KEY_W = 80.0  # points at scale 1: the size key left of the table


def _key_columns(width_pt: float, scale: float, lang: str) -> int:
    return max(1, int((width_pt - SIZE_KEY_W * scale) // (KEY_COLUMN[lang] * scale)))


def key_entries(sc: Scene, stacks: list[Stack]) -> list[tuple[str, list[str]]]:
    """Each lettered shared point's heading and one line per feature: name · kind · industries
    (words from layers.words, industries from the build's sector list)."""
    lang = sc.view.lang
    out = []
    for st_ in stacks:
        lines = []
        for lid, r in st_.items:
            kind = say("kind_project", lang) if lid == "projects" else \
                (label(KINDS, r["kind"], lang) if r.get("kind") else "")
            sectors = "、".join(sector_name(sc.meta, c, lang) for c in (r.get("sectors") or [])[:2])
            lines.append(" · ".join(t for t in (feature_name(r, lang), kind, sectors) if t))
        out.append((f"{st_.key}  {st_.place} · {len(st_.items)}", lines))
    return out


@dataclass
class KeyTable:
    """What the key band lists: per shared point its letter, the features shown and how many
    are left to "…and N more" (the tests read it)."""
    rows: list[tuple[str, list[str], int]] = field(default_factory=list)  # heading, lines, more


def fit_key(entries: list[tuple[str, list[str]]], budget: int) -> list[tuple[str, list[str], int]]:
    """Each entry's heading and as many of its lines as `budget` lines hold: every list cut to
    the same length, each cut one with a line saying how many it leaves out; then the room
    left lists the shortest in full."""
    def cost(n: int, q: int) -> int:
        return min(n, q) + (0 < q < n)

    q = max((len(lines) for _, lines in entries), default=0)
    while q > 0 and sum(1 + cost(len(lines), q) for _, lines in entries) > budget:
        q -= 1
    keep = [min(len(lines), q) for _, lines in entries]
    left = budget - sum(1 + cost(len(lines), q) for _, lines in entries)
    for i in sorted(range(len(entries)), key=lambda i: len(entries[i][1])):
        n = len(entries[i][1])
        extra = n - cost(n, q)
        if keep[i] < n and 0 <= extra <= left:
            keep[i], left = n, left - extra
    return [(head, lines[:k], len(lines) - k) for (head, lines), k in zip(entries, keep)]


def _key_table(fig: Figure, box: Box, sc: Scene, drawn: Drawn, scale: float) -> KeyTable:
    lang = sc.view.lang
    kax = fig.add_axes(box)
    kax.set_axis_off()
    wi, hi = fig.get_size_inches()
    w_pt, h_pt = box[2] * wi * 72, box[3] * hi * 72
    kax.set_xlim(0, w_pt)
    kax.set_ylim(0, h_pt)
    fs = KEY_FONT * scale
    line = fs * KEY_LINE
    renderer = cast(FigureCanvasAgg, fig.canvas).get_renderer()
    # the size key: nested circles for a small, a middle and the largest count drawn
    counts = sorted(len(s.items) for s in drawn.stacks)
    most = counts[-1]
    shown = sorted({v for v in (2, _nice_count(most / 4), most) if 2 <= v <= most}, reverse=True)
    dmax = shared_diameter(most, scale)
    kax.text(0, h_pt, "\n".join(wrap(say("size_key", lang), 9 if lang == "zh" else 18)),
             fontsize=fs, va="top", fontweight="bold", linespacing=1.2)
    cx, base = dmax / 2 + 2 * scale, 3 * scale
    for v in shown:
        d = shared_diameter(v, scale)
        kax.add_patch(Circle((cx, base + d / 2), d / 2, facecolor="white", edgecolor="#555",
                             linewidth=0.6 * scale, linestyle=(0, (2, 1.2))))
        kax.plot([cx, cx + dmax / 2 + 4 * scale], [base + d, base + d], color="#555", linewidth=0.4 * scale)
        kax.text(cx + dmax / 2 + 5 * scale, base + d, str(v), fontsize=fs, va="center")
    # the table: a heading, then the lettered entries in columns
    x_table = max(SIZE_KEY_W * scale, dmax + 24 * scale)  # the size key's width
    col_w = KEY_COLUMN[lang] * scale
    cols = max(1, int((w_pt - x_table) // col_w))
    col_w = (w_pt - x_table) / cols
    rows_per_col = max(1, int((h_pt - line) // line))
    fitted = fit_key(key_entries(sc, drawn.stacks), rows_per_col * cols)
    kax.text(x_table, h_pt, say("shared_key", lang), fontsize=fs * 1.05, va="top", fontweight="bold")
    lines: list[tuple[str, bool]] = []
    for head, items, more in fitted:
        lines.append((head, True))
        lines += [(f"   {t}", False) for t in items]
        if more and items:  # with none listed, the heading's count says it
            lines.append(("   " + say("and_more", lang, n=more), False))
    for i, (text, bold) in enumerate(lines[:rows_per_col * cols]):
        col, row = divmod(i, rows_per_col)
        t = kax.text(x_table + col * col_w, h_pt - line * (row + 1), text, fontsize=fs, va="top",
                     fontweight="bold" if bold else "normal", color="#222" if bold else "#333")
        _fit_width(t, col_w - 4 * scale, renderer, kax)
    return KeyTable(fitted)


def _nice_count(v: float) -> int:
    for n in (50, 20, 10, 5, 2):
        if n <= v:
            return n
    return 2


def _ems(text: str) -> float:
    """A line's width in font sizes, reckoned rather than measured (a measure lays the text out:
    a hundred key lines took a second): a Chinese character is one, any other about 0.6."""
    return sum(1.0 if unicodedata.east_asian_width(c) in "WF" else 0.6 for c in text)


def _fit_width(text: Text, width_pt: float, renderer, ax) -> None:
    """Shorten a key line, with an ellipsis, until it fits its column."""
    full = text.get_text()
    room = width_pt / float(text.get_fontsize())
    if _ems(full) <= room:
        return
    cut = len(full)
    while cut > 4 and _ems(full[:cut]) + 1 > room:
        cut -= 1
    text.set_text(full[:cut].rstrip(" ·、") + "…")


class PageCanvas(FigureCanvasAgg):
    """An Agg canvas that draws only when asked to: geopandas' plot() requests a redraw of the
    whole figure after every layer it adds, which was two thirds of a render's time."""

    def draw_idle(self, *args: Any, **kwargs: Any) -> None:
        pass


def render_figure(sc: Scene, approval: str = "", size: tuple[float, float] | None = None,
                  show_title: bool = True, text_scale: float = 1.0, legend: bool = True) -> Figure:
    """The page; `size` (inches) overrides the paper, `show_title=False` leaves the title to
    the slide that holds the picture, `text_scale` enlarges text and symbols (slides),
    `legend=False` gives the legend's panel to the map (the deck sets the legend as text
    beside the picture, from `sc.drawn`)."""
    return draw_page(sc, approval, size, show_title, text_scale, legend).fig


@dataclass
class Page:
    """A drawn page and what its tests read: the label placer's boxes, the key table, the
    frame (display pixels) and the map's axes."""
    fig: Figure
    ax: Any
    placer: labels.Placer
    key: KeyTable
    drawn: Drawn
    layout: Layout


def draw_page(sc: Scene, approval: str = "", size: tuple[float, float] | None = None,
              show_title: bool = True, text_scale: float = 1.0, legend: bool = True) -> Page:
    ensure_fonts()
    view = sc.view
    lang = view.lang
    wi, hi = size or view.size_inches
    portrait = hi > wi
    fig = Figure(figsize=(wi, hi), dpi=view.dpi, facecolor="white")
    PageCanvas(fig)
    crs = projection(sc.extent)
    to_map = Transformer.from_crs(4326, crs, always_xy=True)
    bx = gpd.GeoSeries([shapely.box(*sc.extent)], crs=4326).to_crs(crs).total_bounds
    paper = view.paper if size is None else ""

    # the shared points decide the key band's height, which decides the frame, which decides
    # which shared points are inside it: lay out with every shared point in the extent, then
    # once more with those inside the frame if fewer
    def frame_for(layout: Layout) -> tuple[float, ...]:
        return _fit(layout.map_box[2] * wi, layout.map_box[3] * hi, tuple(bx))

    def stacks_in(frame: tuple[float, ...]) -> list[Stack]:
        x0, y0, x1, y1 = frame
        out = []
        for s in sc.stacks:
            x, y = to_map.transform(s.lon, s.lat)
            if x0 <= x <= x1 and y0 <= y <= y1:
                out.append(s)
        return out

    def layout_for(stacks: list[Stack]) -> Layout:
        lines = sum(1 + len(s.items) for s in stacks)
        scale0 = page_layout(paper, wi, hi, show_title, text_scale).scale
        most = max((len(s.items) for s in stacks), default=0)
        size_h = shared_diameter(most, scale0) + 34 * scale0 if stacks else 0.0
        return page_layout(paper, wi, hi, show_title, text_scale, lines, size_h, lang, legend)

    lay = layout_for(stacks_in(frame_for(layout_for(sc.stacks))))
    scale, margin, footer_h, title_h = lay.scale, lay.margin, lay.footer_h, lay.title_h
    map_box = lay.map_box
    ax = fig.add_axes(map_box)
    x0, y0, x1, y1 = frame_for(lay)
    clip = shapely.box(*gpd.GeoSeries([shapely.box(x0, y0, x1, y1)], crs=crs).to_crs(4326).total_bounds)

    def prep(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        if not len(frame):
            return frame.to_crs(crs)
        sub = frame[frame.intersects(clip)]
        return sub.to_crs(crs)

    ax.set_facecolor("#f4f8fb")  # outside the two provinces: pale, like paper under water
    provinces = prep(sc.polygons["provinces"])
    _draw_polys(ax, provinces, facecolor="#fbfaf6", edgecolor="none", zorder=1)
    drawn = Drawn()
    cities = prep(sc.polygons["cities"]) if "cities" in sc.polygons else None
    if cities is not None and len(cities):
        fills = [shade_fill(sc, int(a)) for a in cities.adcode]
        # one collection per city, named by its code (an SVG's ids; the legend tests read them)
        for i, (adcode, fill) in enumerate(zip(cities.adcode, fills)):
            cities.iloc[[i]].plot(ax=ax, facecolor=fill, edgecolor="#7a7a7a", linewidth=0.6 * scale,
                                  zorder=2, gid=f"city-{int(adcode)}")
    if "counties" in sc.polygons:
        _draw_polys(ax, prep(sc.polygons["counties"]), facecolor="none", edgecolor="#b5b5b5",
                    linewidth=0.3 * scale, zorder=2)
    if view.city is not None and cities is not None:
        _draw_polys(ax, cities[cities.adcode.astype(int) == view.city], facecolor="none",
                    edgecolor=style.CITY_FOCUS, linewidth=1.8 * scale, zorder=4.5)
    if sc.member_units:
        for lid in ("cities", "counties"):
            f = sc.polygons.get(lid)
            if f is None:
                continue
            sel = f[f.adcode.astype(int).isin(sc.member_units)]
            _draw_polys(ax, prep(sel), facecolor=style.MEMBER_FILL, edgecolor=style.MEMBER,
                        linewidth=1.1 * scale, alpha=0.85, zorder=3)
    elif "clusters" in sc.polygons and len(sc.polygons["clusters"]):
        cl = prep(sc.polygons["clusters"])
        cl.plot(ax=ax, facecolor="#9ecae1", edgecolor=style.CLUSTER_AREA, alpha=0.18, linewidth=0.8 * scale,
                linestyle="--", zorder=3)
    _draw_polys(ax, provinces, facecolor="none", edgecolor="#555555", linewidth=1.3 * scale, zorder=4)

    hy = hydro()
    if "lakes" in hy:
        _draw_polys(ax, prep(hy["lakes"]), facecolor=style.LAKE_FILL, edgecolor=style.WATER,
                    linewidth=0.3 * scale, zorder=2.5)
    if "rivers" in hy:
        _draw_polys(ax, prep(hy["rivers"]), color=style.WATER, linewidth=0.8 * scale, zorder=2.5)

    if sc.lines is not None and len(sc.lines):
        ln = prep(sc.lines) if len(sc.lines) else sc.lines
        sector_index = {s["code"]: i for i, s in enumerate(sc.sectors)}
        for g, r in zip(ln.geometry, records(ln)):
            colour = style.line_colour(r.get("sectors"), sector_index)
            xs, ys = g.xy
            ax.plot(xs, ys, color=colour, linewidth=3.0 * scale, alpha=0.85, solid_capstyle="round",
                    zorder=5, gid=f"cluster_lines-{r['id']}")
            drawn.line_keys.append((colour, feature_name(r, lang)))

    _draw_points(ax, sc, to_map, scale, drawn, (x0, y0, x1, y1))

    halo = [withStroke(linewidth=2.6 * scale, foreground="white")]
    # member numbers sit up and left of the member's point, so a circle of features there stays legible
    lift = ax.transData + matplotlib.transforms.ScaledTranslation(-12 * scale / 72, 12 * scale / 72,
                                                                   fig.dpi_scale_trans)
    for m in sc.members:
        if m["lon"] is None:
            continue
        x, y = to_map.transform(m["lon"], m["lat"])
        ax.plot([x], [y], marker="o", markersize=17 * scale, markerfacecolor=style.MEMBER,
                markeredgecolor="white", markeredgewidth=1.2 * scale, transform=lift, zorder=10)
        ax.text(x, y, str(m["n"]), ha="center", va="center", color="white", fontsize=9 * scale,
                fontweight="bold", transform=lift, zorder=11)

    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel("")
    ax.set_ylabel("")
    for spine in ax.spines.values():
        spine.set_edgecolor("#444")
        spine.set_linewidth(0.8)
    renderer = cast(FigureCanvasAgg, fig.canvas).get_renderer()
    furniture = [_scale_bar(ax, x0, y0, x1, y1, scale, lang, renderer),
                 _north_arrow(ax, scale, lang, renderer)]
    if not any(len(f) for f in sc.points.values()) and sc.points:
        # at the top of the frame, not its centre, where a one-member cluster's badge is
        note = ax.text(0.5, 0.97, say("none_drawn", lang), transform=ax.transAxes, ha="center", va="top",
                       fontsize=12 * scale, color="#a00", zorder=12,
                       bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.85, "pad": 2})
        furniture.append(_display_box([note], renderer))
    _count_texts(ax, drawn, scale, renderer)
    placer = _place_names(ax, sc, to_map, clip, scale, halo, drawn, furniture, renderer)

    # title, key, legend, footer (the legend's axes last: its tests find it there)
    if show_title:
        fig.text(margin, 1 - 0.3 * title_h, sc.title, fontsize=17 * scale,
                 fontweight="bold", va="top", ha="left")
    if sc.subtitle and show_title:
        fig.text(margin, 1 - title_h + 0.012, sc.subtitle, fontsize=9.5 * scale, color="#444",
                 va="bottom", ha="left")
    key = _key_table(fig, lay.key_box, sc, drawn, scale) if lay.key_box and drawn.stacks else KeyTable()
    sc.drawn = drawn
    if legend:
        _legend(fig, lay.legend_box, sc, drawn, scale, portrait)
    _footer(fig, sc, approval, scale, margin, footer_h, wi)
    return Page(fig, ax, placer, key, drawn, lay)


def _display_box(artists: list, renderer) -> tuple[float, float, float, float]:
    boxes = [a.get_window_extent(renderer) for a in artists]
    return (min(b.x0 for b in boxes), min(b.y0 for b in boxes),
            max(b.x1 for b in boxes), max(b.y1 for b in boxes))


def _count_texts(ax, drawn: Drawn, scale: float, renderer) -> None:
    """Each circle's count, at its centre, or just inside its rim where a smaller circle drawn
    over it covers the centre (Wuhan's 72 under its districts' circles on the province map)."""
    px = ax.figure.dpi / 72
    taken: list[tuple[float, float, float, float]] = []
    above: list[tuple[float, float, float]] = []  # display centre and radius of the circles drawn so far
    for st_, x, y, d, _colour, z in sorted(drawn.circles, key=lambda c: c[3]):  # smallest first
        n = len(st_.items)
        text = ax.text(x, y, str(n), ha="center", va="center", fontsize=(6.2 if n < 100 else 5.2) * scale,
                       fontweight="bold", color="#222", zorder=z + 0.0005)
        cx, cy = ax.transData.transform((x, y))
        r = d / 2 * px
        ext = text.get_window_extent(renderer)
        tw, th = ext.width / 2, ext.height / 2
        spots = [(0.0, 0.0)] + [(dx * (r - tw - 2), dy * (r - th - 2))
                               for dx, dy in ((0, 1), (0, -1), (-1, 0), (1, 0), (-.7, .7), (.7, .7),
                                              (-.7, -.7), (.7, -.7))]
        for sx, sy in spots:
            box = (cx + sx - tw, cy + sy - th, cx + sx + tw, cy + sy + th)
            if not any(_meets_circle(box, c) for c in above) and not any(_meets(box, t) for t in taken):
                break
        else:
            sx, sy, box = 0.0, 0.0, (cx - tw, cy - th, cx + tw, cy + th)
        text.set_position(ax.transData.inverted().transform((cx + sx, cy + sy)))
        taken.append(box)
        above.append((cx, cy, r))


def _meets(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _meets_circle(box: tuple[float, ...], circle: tuple[float, float, float]) -> bool:
    cx, cy, r = circle
    nx, ny = min(max(cx, box[0]), box[2]), min(max(cy, box[1]), box[3])
    return (nx - cx) ** 2 + (ny - cy) ** 2 < r * r


def _place_names(ax, sc: Scene, to_map: Transformer, clip, scale: float, halo: list, drawn: Drawn,
                 furniture: list, renderer) -> labels.Placer:
    """Names and circle letters beside their point, inside the frame, each where it covers no
    point symbol, circle, member badge, scale bar, north arrow or name already placed
    (server/exports/labels.py): a county member's name, the cities', the circles' letters, then
    the counties'. Once the map's extent is fixed, as the boxes are measured on the page."""
    bb = ax.get_window_extent(renderer)
    pad = 3 * ax.figure.dpi / 72
    placer = labels.Placer((bb.x0 + pad, bb.y0 + pad, bb.x1 - pad, bb.y1 - pad))
    for box in labels.symbol_boxes(ax, min_zorder=POINT_ZORDER):
        placer.occupy(box, symbol=True)
    for box in furniture:
        placer.occupy(box, symbol=True)
    city_codes = {int(a) for a in sc.polygons["cities"].adcode} if "cities" in sc.polygons else set()
    for m in sc.members:  # a county member has no city label of its own
        if m["lon"] is not None and m["adcode"] not in city_codes:
            x, y = to_map.transform(m["lon"], m["lat"])
            text = ax.text(x, y, m["name"], fontsize=8.5 * scale, path_effects=halo, zorder=11)
            labels.place(text, placer, renderer, scale)
    names = sorted(sc.labels, key=lambda label: not label[3])
    for lon, lat, name, is_city in names:
        if is_city and clip.contains(shapely.Point(lon, lat)):
            x, y = to_map.transform(lon, lat)
            text = ax.text(x, y, name, fontsize=8.5 * scale, color="#333", path_effects=halo, zorder=9)
            labels.place(text, placer, renderer, scale)
    for st_, x, y, _d, colour, _z in sorted(drawn.circles, key=lambda c: c[0].key):
        text = ax.text(x, y, st_.key, fontsize=7.5 * scale, color=colour, fontweight="bold",
                       path_effects=halo, zorder=9, gid=f"shared-key-{st_.key}")
        labels.place(text, placer, renderer, scale)
    for lon, lat, name, is_city in names:
        if not is_city and clip.contains(shapely.Point(lon, lat)):
            x, y = to_map.transform(lon, lat)
            text = ax.text(x, y, name, fontsize=7 * scale, color="#666", path_effects=halo, zorder=9)
            labels.place(text, placer, renderer, scale)
    return placer


def _scale_bar(ax, x0, y0, x1, y1, scale: float, lang: str, renderer) -> tuple[float, float, float, float]:
    """The bar, its numbers above it and a white box round both; its display box."""
    length = _nice_length((x1 - x0) * 0.22)
    bx = x0 + (x1 - x0) * 0.04
    by = y0 + (y1 - y0) * 0.05
    h = (y1 - y0) * 0.008
    parts: list[Artist] = []
    for i in range(4):
        parts.append(ax.add_patch(Rectangle((bx + i * length / 4, by), length / 4, h,
                                            facecolor="#222" if i % 2 == 0 else "white", edgecolor="#222",
                                            linewidth=0.6, zorder=13)))
    km = length / 1000
    caption = f"{km:g} {say('km', lang)}"
    parts.append(ax.text(bx, by + h * 1.6, "0", fontsize=7 * scale, ha="center", va="bottom", zorder=13))
    parts.append(ax.text(bx + length, by + h * 1.6, caption, fontsize=7 * scale, ha="center", va="bottom",
                         zorder=13))
    # the box holds the bar and both numbers, however long the caption
    px0, py0, px1, py1 = _display_box(parts, renderer)
    pad = 5 * scale * ax.figure.dpi / 72
    box = (px0 - pad, py0 - pad, px1 + pad, py1 + pad)
    (dx0, dy0), (dx1, dy1) = ax.transData.inverted().transform([box[:2], box[2:]])
    ax.add_patch(FancyBboxPatch((dx0, dy0), dx1 - dx0, dy1 - dy0, boxstyle="round,pad=0",
                                facecolor="white", edgecolor="none", alpha=0.85, zorder=12, gid="scale-bar"))
    return box


def _north_arrow(ax, scale: float, lang: str, renderer) -> tuple[float, float, float, float]:
    # at the centre of a conic projection centred on the map, grid north is true north
    cx, cy = 0.95, 0.88
    hw, hh = 0.018, 0.07
    parts = [ax.add_patch(Polygon([(cx, cy + hh / 2), (cx - hw, cy - hh / 2), (cx, cy - hh / 4)],
                                  closed=True, transform=ax.transAxes, facecolor="#222", edgecolor="#222",
                                  linewidth=0.6, zorder=13)),
             ax.add_patch(Polygon([(cx, cy + hh / 2), (cx + hw, cy - hh / 2), (cx, cy - hh / 4)],
                                  closed=True, transform=ax.transAxes, facecolor="white", edgecolor="#222",
                                  linewidth=0.6, zorder=13)),
             ax.text(cx, cy + hh / 2 + 0.01, say("north", lang), transform=ax.transAxes, ha="center",
                     va="bottom", fontsize=9 * scale, fontweight="bold", zorder=13)]
    return _display_box(parts, renderer)


def _legend(fig: Figure, box: Box, sc: Scene, drawn: Drawn, scale: float, portrait: bool) -> None:
    lang = sc.view.lang
    lax = fig.add_axes(box)
    lax.set_axis_off()
    sections: list[tuple[str, list]] = []
    sector_index = {s["code"]: i for i, s in enumerate(sc.sectors)}
    if drawn.sectors:
        items = [Patch(facecolor=style.sector_colour(code, sector_index), edgecolor="#333",
                       label=sector_name(sc.meta, code, lang))
                 for code, _ in sorted(drawn.sectors.items(), key=lambda kv: sector_index.get(kv[0], 99))]
        sections.append((say("industry_key", lang), items))
    sym: list[Artist] = []  # marker lines, and a scatter for the dashed key
    grey: dict[str, Any] = dict(color="none", markerfacecolor=style.LEGEND_SYMBOL,
                                markeredgecolor=style.OUTLINE, markeredgewidth=stroke_width(False, scale))
    for (lid, level), key in ((("parks", "national"), "sym_national"),
                              (("parks", "provincial"), "sym_provincial"),
                              (("parks", None), "sym_other"), (("projects", None), "sym_project")):
        present = (lid, level) in drawn.markers or (
            key == "sym_other" and any(m[0] == "parks" and m[1] not in ("national", "provincial")
                                       for m in drawn.markers))
        if present:
            sym.append(Line2D([], [], marker=_marker(lid, level),
                              markersize=marker_size(style.symbol(lid, level), scale),
                              label=say(key, lang), **grey))
    park = marker_size(style.SYMBOLS["park"], scale)
    if drawn.exact:
        sym.append(Line2D([], [], marker="o", markersize=park, label=say("solid", lang),
                          **{**grey, "markerfacecolor": style.LEGEND_PRECISION}))
    if drawn.approx:  # a scatter's key, which keeps the dashes a marker's edge cannot have
        sym.append(lax.scatter([], [], s=park ** 2, marker="o", facecolors=style.HOLLOW_FILL,
                               edgecolors=style.LEGEND_PRECISION, linewidths=stroke_width(True, scale),
                               linestyles=dash_pattern(True), label=say("approx", lang)))
    if drawn.catalogue_only:
        sym.append(Line2D([], [], marker="D", markersize=marker_size(style.SYMBOLS["provincial"], scale),
                          alpha=style.CATALOGUE_OPACITY, label=say("sym_catalogue", lang), **grey))
    if drawn.stacks:
        # an "n" drawn as a path: with mathtext off (text.parse_math), "$n$" would print as typed
        n_mark = TextPath((0, 0), "n", prop=font_manager.FontProperties(family=FONT_FAMILY, weight="bold"))
        sym.append(Line2D([], [], marker=n_mark, markersize=8 * scale, color="#222", linestyle="none",
                          label=say("stack", lang)))
    if sym:
        sections.append((say("symbols", lang), sym))
    areas: list[Artist] = []  # patches and lines
    if sc.member_units:
        areas.append(Patch(facecolor=style.MEMBER_FILL, edgecolor=style.MEMBER,
                           label=say("member_area", lang)))
    elif "clusters" in sc.polygons and len(sc.polygons["clusters"]):
        areas.append(Patch(facecolor="#d9ebf5", edgecolor=style.CLUSTER_AREA, linestyle="--",
                           label=say("clusters_and_groups", lang)))
    for colour, name in drawn.line_keys:
        areas.append(Line2D([], [], color=colour, linewidth=3 * scale, label=name))
    hy = hydro()
    if hy:
        areas.append(Line2D([], [], color=style.WATER, linewidth=1.2 * scale,
                            label=say("rivers_lakes", lang)))
    if areas:
        sections.append((say("legend", lang) if not sections else "", areas))
    if sc.shading:  # as the live map's legend: the measure, then its classes
        sections.append(_shading_section(sc))

    fs = 7.4 * scale
    limit = 30 if lang == "en" else 15  # characters per legend line before wrapping
    for _, handles in sections:
        for h in handles:
            text = h.get_label()
            if len(text) > limit:
                h.set_label("\n".join(wrap(text, limit)))
    lax.text(0, 1.0, say("legend", lang), fontsize=10 * scale, fontweight="bold", va="top",
             transform=lax.transAxes)
    renderer = cast(FigureCanvasAgg, fig.canvas).get_renderer()  # the canvas render_figure gave it
    # landscape: one column of sections down the side panel; portrait: the industries in two
    # columns on the left, the other sections on the right, or under the industries when the
    # right is fuller
    columns = [0.0] if not portrait else [0.0, 0.62]
    top = 1.0 - (0.06 if not portrait else 0.13)

    full_fs = fs
    marker_sizes = [(h, key_size(h)) for _, hs in sections for h in hs]

    def lay_out(fs: float) -> tuple[list[Artist], dict[float, float]]:
        for h, size in marker_sizes:  # symbols shrink with the text they stand beside
            if isinstance(h, Line2D):
                h.set_markersize(size * fs / full_fs)
            elif isinstance(h, PathCollection):
                h.set_sizes([(size * fs / full_fs) ** 2])
        placed: list[Artist] = []
        y = {x: top for x in columns}
        for head, handles in sections:
            is_sectors = head == say("industry_key", lang)
            # portrait: the industries on the left, each other section where most room is left
            x = columns[0] if (not portrait or is_sectors) else max(columns[::-1], key=y.__getitem__)
            short = max(len(h.get_label()) for h in handles) <= 12
            two = is_sectors and ((portrait and len(handles) > 8) or (short and len(handles) > 12))
            ncol = 2 if two else 1
            # a key as large as its symbol on the map gets a row as tall and a slot as wide
            widest = max(key_size(h) for h in handles) / fs  # in font sizes, as the legend counts
            leg = lax.legend(handles=handles, loc="upper left", bbox_to_anchor=(x, y[x]), ncol=ncol,
                             frameon=False, fontsize=fs, title=head or None, title_fontsize=fs * 1.1,
                             alignment="left", handlelength=max(1.6, widest),
                             handleheight=max(0.7, widest * 0.8), borderaxespad=0, labelspacing=0.45,
                             columnspacing=1.0)
            lax.add_artist(leg)
            placed.append(leg)
            bb = leg.get_window_extent(renderer).transformed(lax.transAxes.inverted())
            y[x] = bb.y0 - 0.03
        return placed, y

    # A long legend (many industries, in English) would run into the source line: its text
    # shrinks, a tenth at a time, until the sections end inside the panel.
    for _ in range(5):
        placed, y = lay_out(fs)
        if min(y.values()) >= -0.03:
            break
        for leg in placed:
            leg.remove()
        fs *= 0.9
    else:
        placed, y = lay_out(fs)
    if sc.members:
        lines = []
        for m in sc.members:
            role = f" — {m['role']}" if m["role"] else ""
            lines.append(f"{m['n']}. {m['name']}{role}")
        text = "\n".join(textwrap.shorten(t, 60 if lang == "en" else 34, placeholder="…") for t in lines)
        x = columns[-1]
        lax.text(x, y[x], say("members_in_order", lang) + "\n" + text, fontsize=fs, va="top",
                 transform=lax.transAxes, linespacing=1.4)


def key_size(handle: Artist) -> float:
    """A legend key's symbol size across (points); 0 for a patch or a line."""
    if isinstance(handle, Line2D) and handle.get_marker() not in (None, "None", ""):
        return float(handle.get_markersize())
    if isinstance(handle, PathCollection) and len(handle.get_sizes()):
        return math.sqrt(float(handle.get_sizes()[0]))
    return 0.0


def shade_fill(sc: Scene, adcode: int) -> str | tuple[float, float, float, float]:
    """A city's fill: its shading class's colour, as the live map draws it (layers.style)."""
    if not sc.shading:
        return "none"
    value = sc.shading.get(adcode, 0)
    if sc.view.measure.startswith("sector:"):
        return to_rgba(style.SECTOR_SHADE, style.SECTOR_SHADE_OPACITY) if value else \
            to_rgba(style.EMPTY_FILL, style.EMPTY_OPACITY)
    cls = style.class_of(int(value), sc.classes)
    return to_rgba(cls.colour, style.SHADE_OPACITY) if cls else to_rgba(style.EMPTY_FILL, style.EMPTY_OPACITY)


def _shading_section(sc: Scene) -> tuple[str, list]:
    lang, measure = sc.view.lang, sc.view.measure
    if measure.startswith("sector:"):
        head = say("shaded_by", lang) + sector_name(sc.meta, measure[7:], lang)
        return head, [Patch(facecolor=to_rgba(style.SECTOR_SHADE, style.SECTOR_SHADE_OPACITY),
                            edgecolor="#7a7a7a", label=say("has_sector", lang))]
    head = say("shaded_by", lang) + say("m_" + measure, lang)
    return head, [Patch(facecolor=to_rgba(c.colour, style.SHADE_OPACITY), edgecolor="#7a7a7a", label=c.label)
                  for c in sc.classes]


def _footer(fig: Figure, sc: Scene, approval: str, scale: float, margin: float, footer_h: float,
            width_in: float) -> None:
    lang = sc.view.lang
    text = source_line(sc.meta, sc.docs, lang, rivers=bool(hydro()))
    chars = int(width_in * (9 if lang == "zh" else 17) / scale)
    lines = wrap(text, chars)[:4]
    fig.text(margin, footer_h - 0.012, "\n".join(lines), fontsize=6.6 * scale, color="#333", va="top",
             ha="left", linespacing=1.35)
    if approval:
        fig.text(1 - margin, 0.012, say("approval", lang, n=approval), fontsize=7.5 * scale, ha="right",
                 va="bottom", color="#222")


def render(store, view: View, fmt: str, approval: str = "",
           size: tuple[float, float] | None = None, show_title: bool = True,
           text_scale: float = 1.0) -> bytes:
    """The view as a PNG, SVG or PDF document."""
    sc = scene(store, view)
    fig = render_figure(sc, approval, size, show_title, text_scale)
    buf = io.BytesIO()
    meta: dict[str, Any] = {"Title": sc.title}
    if fmt == "png":
        meta["Software"] = SOFTWARE
    elif fmt == "pdf":
        meta.update({"Creator": SOFTWARE, "Subject": "; ".join(d["code"] for d in sc.docs)})
    else:
        meta = {"Title": sc.title}
    layer = svg_text_layer(fig) if fmt == "svg" else ""
    fig.savefig(buf, format=fmt, dpi=view.dpi, metadata=meta, facecolor="white")
    if layer:
        body = buf.getvalue()
        end = body.rindex(b"</svg>")
        return body[:end] + layer.encode() + body[end:]
    return buf.getvalue()


SVG_FONT = f"'{FONT_FAMILY}', sans-serif"  # the text layer's family, with a generic fallback


def svg_text_layer(fig: Figure) -> str:
    """Every visible text of the page as SVG <text>, transparent, over the glyphs drawn as
    paths: a reader can select, search and copy the words of an SVG whose look does not
    depend on the fonts of the machine that opens it. Each single line is stretched to the
    width its glyphs take (textLength), so a selection covers what it reads."""
    renderer = cast(FigureCanvasAgg, fig.canvas).get_renderer()
    k = 72 / fig.dpi  # display pixels to the SVG's points
    height = fig.get_size_inches()[1] * 72
    out = []
    for t in fig.findobj(Text):
        text = t.get_text()
        if not text.strip() or not t.get_visible() or t.figure is None:
            continue
        ext = t.get_window_extent(renderer)
        if ext.width <= 0:
            continue
        lines = text.split("\n")
        size = float(t.get_fontsize())
        step = ext.height * k / len(lines)
        weight = ' font-weight="bold"' if t.get_fontweight() in ("bold", 700) else ""
        for i, line in enumerate(lines):
            if not line.strip():
                continue
            x, y = ext.x0 * k, height - ext.y1 * k + step * i + size * 0.95
            fit = f' textLength="{ext.width * k:.2f}" lengthAdjust="spacingAndGlyphs"' \
                if len(lines) == 1 else ""
            out.append(f'<text x="{x:.2f}" y="{y:.2f}" font-size="{size:.2f}"{weight}{fit}>'
                       f"{xml_escape(line)}</text>")
    return (f'<g id="text-layer" font-family="{xml_escape(SVG_FONT, {chr(34): "&quot;"})}" '
            'fill="#000" fill-opacity="0">\n' + "\n".join(out) + "\n</g>\n")
