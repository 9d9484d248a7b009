"""Print maps: any view of the atlas as a PNG, SVG or PDF page, rendered with matplotlib.

A page carries what a briefing needs and a screenshot lacks: a title, a legend for exactly
what is drawn, a scale bar, a north arrow, city labels (and the numbered members of a
cluster), a source line naming the documents behind what is drawn and the build date, and
the map-approval number (审图号) when one is configured.

Features placed only at a town's, district's, county's or city's point keep the interactive
map's hollow, dashed style, and features sharing one such point are drawn as one badge with
their count: a printed map must not look more precise than the data.

The map is drawn in a Lambert conformal conic projection centred on the view, so north is
up at the centre and the scale bar holds across a province. Framework-free: `render()`
returns bytes.
"""

from __future__ import annotations

import io
import math
import re
import textwrap
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

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
from matplotlib.patches import FancyBboxPatch, Patch, Polygon, Rectangle
from matplotlib.patheffects import withStroke
from pyproj import CRS, Transformer

from layers import style
from layers.admin import Units
from layers.registry import ADMIN_LAYERS, LAYERS, records
from layers.words import KINDS, LEVELS, label, say
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
        "svg.fonttype": "none",  # SVG keeps text as text
        "axes.unicode_minus": False,
    })
    _fonts_ready = True


# ---------------------------------------------------------------- what is drawn

Box = tuple[float, float, float, float]  # left, bottom, width, height (figure fractions)


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
                 member_units, docs, meta, meta.get("sectors", []), shading)


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
    stacks: bool = False
    catalogue_only: bool = False
    line_keys: list = field(default_factory=list)  # (colour, name)


def _draw_points(ax, sc: Scene, to_map: Transformer, scale: float, drawn: Drawn) -> None:
    sector_index = {s["code"]: i for i, s in enumerate(sc.sectors)}
    stacks: dict[tuple[float, float], list] = defaultdict(list)
    for lid in ("parks", "projects"):
        f = sc.points.get(lid)
        if f is None or not len(f):
            continue
        for r, g in zip(records(f), f.geometry):
            if g is None:
                continue
            stacks[(round(g.x, 5), round(g.y, 5))].append((lid, r))
    for (lon, lat), items in stacks.items():
        x, y = to_map.transform(lon, lat)
        if len(items) == 1:
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
                       linestyles=dash_pattern(approx) or "solid", alpha=alpha, zorder=6,
                       gid=f"{lid}-{LAYERS[lid].feature_id(r)}")
            continue
        # several features on one point: one badge with the count, ringed in the commonest
        # industry's colour; always hollow-style, since only representative points are shared
        drawn.stacks = True
        common = Counter(s for _, r in items for s in (r.get("sectors") or [])[:1])
        colour = style.lead_colour([common.most_common(1)[0][0]] if common else [], sector_index)
        for _, r in items:
            if r.get("sectors"):
                drawn.sectors[r["sectors"][0]] += 1
        for lid, r in items:
            drawn.markers.add((lid, r.get("level") if lid == "parks" else None))
        drawn.approx = True
        n = len(items)
        radius = (7 + 3 * math.log10(n)) * scale
        ax.scatter([x], [y], s=(2 * radius) ** 2, marker="o", facecolors="white", edgecolors=colour,
                   linewidths=2.0 * scale, linestyles=(0, (2, 1.2)), zorder=7)
        ax.text(x, y, str(n), ha="center", va="center", fontsize=(6 if n < 100 else 5) * scale,
                fontweight="bold",
                color="#222", zorder=8)


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
    ensure_fonts()
    view = sc.view
    lang = view.lang
    wi, hi = size or view.size_inches
    # 1 on A4; text and symbols grow with the paper
    scale = math.sqrt(wi * hi / (11.69 * 8.27)) * text_scale
    fig = Figure(figsize=(wi, hi), dpi=view.dpi, facecolor="white")
    PageCanvas(fig)
    portrait = hi > wi
    margin = 0.025 if not portrait else 0.035
    footer_h = 0.085 if not portrait else 0.07
    title_h = (0.10 if not portrait else 0.075) if show_title else 0.02
    if portrait:
        map_box = (margin, footer_h + 0.25, 1 - 2 * margin, 1 - title_h - footer_h - 0.26)
        legend_box = (margin, footer_h + 0.005, 1 - 2 * margin, 0.24)
    else:
        map_box = (margin, footer_h, 0.70, 1 - title_h - footer_h)
        legend_box = (margin + 0.71, footer_h, 1 - 2 * margin - 0.71, 1 - title_h - footer_h)
    if not legend:
        map_box = (margin, footer_h, 1 - 2 * margin, 1 - title_h - footer_h)
    ax = fig.add_axes(map_box)
    crs = projection(sc.extent)
    to_map = Transformer.from_crs(4326, crs, always_xy=True)

    # ground: provinces, cities (shaded if asked), counties, the cluster's member units
    ext_poly = gpd.GeoSeries([shapely.box(*sc.extent)], crs=4326).to_crs(crs)
    bx = ext_poly.total_bounds
    ax_w, ax_h = map_box[2] * wi, map_box[3] * hi
    x0, y0, x1, y1 = _fit(ax_w, ax_h, tuple(bx))
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

    _draw_points(ax, sc, to_map, scale, drawn)

    halo = [withStroke(linewidth=2.6 * scale, foreground="white")]
    # member numbers sit up and left of the member's point, so a badge of features there stays legible
    lift = ax.transData + matplotlib.transforms.ScaledTranslation(-12 * scale / 72, 12 * scale / 72,
                                                                   fig.dpi_scale_trans)
    # members come only with a cluster's view, which always draws the cities
    city_codes = {int(a) for a in sc.polygons["cities"].adcode} if sc.members else set()
    for m in sc.members:
        if m["lon"] is None:
            continue
        x, y = to_map.transform(m["lon"], m["lat"])
        ax.plot([x], [y], marker="o", markersize=17 * scale, markerfacecolor=style.MEMBER,
                markeredgecolor="white", markeredgewidth=1.2 * scale, transform=lift, zorder=10)
        ax.text(x, y, str(m["n"]), ha="center", va="center", color="white", fontsize=9 * scale,
                fontweight="bold", transform=lift, zorder=11)
        if m["adcode"] not in city_codes:  # a county member has no city label of its own
            ax.text(x, y, f"  {m['name']}", ha="left", va="center", fontsize=8.5 * scale,
                    path_effects=halo, transform=lift, zorder=11)

    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    _place_names(ax, sc, to_map, clip, scale, halo)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel("")
    ax.set_ylabel("")
    for spine in ax.spines.values():
        spine.set_edgecolor("#444")
        spine.set_linewidth(0.8)
    _scale_bar(ax, x0, y0, x1, y1, scale, lang)
    _north_arrow(ax, scale, lang)
    if not any(len(f) for f in sc.points.values()) and sc.points:
        ax.text(0.5, 0.5, say("none_drawn", lang), transform=ax.transAxes, ha="center",
                fontsize=12 * scale, color="#a00", zorder=12)

    # title, legend, footer
    if show_title:
        fig.text(margin, 1 - 0.035 * (1 if not portrait else 0.8), sc.title, fontsize=17 * scale,
                 fontweight="bold", va="top", ha="left")
    if sc.subtitle and show_title:
        fig.text(margin, 1 - title_h + 0.012, sc.subtitle, fontsize=9.5 * scale, color="#444",
                 va="bottom", ha="left")
    sc.drawn = drawn
    if legend:
        _legend(fig, legend_box, sc, drawn, scale, portrait)
    _footer(fig, sc, approval, scale, margin, footer_h, wi)
    return fig


def _place_names(ax, sc: Scene, to_map: Transformer, clip, scale: float, halo: list) -> None:
    """City (then county) names beside their point, each where it covers no point symbol,
    member badge or name already placed (server/exports/labels.py); once the map's extent is
    fixed, as the boxes are measured on the page."""
    placer = labels.Placer()
    for box in labels.symbol_boxes(ax, min_zorder=POINT_ZORDER):
        placer.occupy(box, symbol=True)
    renderer = ax.figure.canvas.get_renderer()
    for lon, lat, name, is_city in sorted(sc.labels, key=lambda label: not label[3]):
        if not clip.contains(shapely.Point(lon, lat)):
            continue
        x, y = to_map.transform(lon, lat)
        text = ax.text(x, y, name, fontsize=(8.5 if is_city else 7) * scale,
                       color="#333" if is_city else "#666", path_effects=halo, zorder=9)
        labels.place(text, placer, renderer, scale)


def _scale_bar(ax, x0, y0, x1, y1, scale: float, lang: str) -> None:
    length = _nice_length((x1 - x0) * 0.22)
    bx = x0 + (x1 - x0) * 0.04
    by = y0 + (y1 - y0) * 0.05
    h = (y1 - y0) * 0.008
    ax.add_patch(FancyBboxPatch((bx - (x1 - x0) * 0.012, by - (y1 - y0) * 0.02),
                                length + (x1 - x0) * 0.024, (y1 - y0) * 0.075,
                                boxstyle="round,pad=0", facecolor="white", edgecolor="none",
                                alpha=0.85, zorder=12))
    for i in range(4):
        ax.add_patch(Rectangle((bx + i * length / 4, by), length / 4, h,
                               facecolor="#222" if i % 2 == 0 else "white", edgecolor="#222",
                               linewidth=0.6, zorder=13))
    km = length / 1000
    caption = f"{km:g} {say('km', lang)}"
    ax.text(bx, by + h * 1.6, "0", fontsize=7 * scale, ha="center", va="bottom", zorder=13)
    ax.text(bx + length, by + h * 1.6, caption, fontsize=7 * scale, ha="center", va="bottom", zorder=13)


def _north_arrow(ax, scale: float, lang: str) -> None:
    # at the centre of a conic projection centred on the map, grid north is true north
    cx, cy = 0.95, 0.88
    hw, hh = 0.018, 0.07
    ax.add_patch(Polygon([(cx, cy + hh / 2), (cx - hw, cy - hh / 2), (cx, cy - hh / 4)],
                         closed=True, transform=ax.transAxes, facecolor="#222", edgecolor="#222",
                         linewidth=0.6, zorder=13))
    ax.add_patch(Polygon([(cx, cy + hh / 2), (cx + hw, cy - hh / 2), (cx, cy - hh / 4)],
                         closed=True, transform=ax.transAxes, facecolor="white", edgecolor="#222",
                         linewidth=0.6, zorder=13))
    ax.text(cx, cy + hh / 2 + 0.01, say("north", lang), transform=ax.transAxes, ha="center",
            va="bottom", fontsize=9 * scale, fontweight="bold", zorder=13)


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
        sym.append(Line2D([], [], marker="$n$", markersize=8 * scale, color="#222", linestyle="none",
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
    fig.savefig(buf, format=fmt, dpi=view.dpi, metadata=meta, facecolor="white")
    return buf.getvalue()
