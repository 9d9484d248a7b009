"""What an exported map shows: the interactive map's view parameters, checked strictly.

`/export/map.<fmt>`, the briefing deck and `atlas export` all describe a view the same way
as the interactive map's URL (`l`, `sector`, `city`, `kind`, `level`, `measure`, `lang`,
`c`/`z`), or as `cluster=<id>` or `bbox=`; plus the paper. Unlike the interactive map,
which quietly ignores a value it does not know, an export answers 400: a briefing must not
silently show something other than what was asked for.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from layers.registry import LAYERS
from layers.words import LANGS
from server.view.model import DEFAULT_VISIBLE, MEASURES

PAPERS_MM = {"A4": (297.0, 210.0), "A3": (420.0, 297.0), "16:9": (338.67, 190.5)}  # landscape
ORIENTS = ("landscape", "portrait")
FORMATS = ("png", "svg", "pdf")
DPI_RANGE = (72, 600)
DEFAULT_DPI = 200
MAX_PIXELS = 40_000_000  # about A4 at 600 dpi; A3 at 600 dpi would be 70 MP
# China's extent (with its islands); a bbox or centre outside it is a mistake, not a view.
CHINA = (73.0, 17.0, 135.5, 54.0)
HUBEI_ADCODE = 420000
NOMINAL_VIEWPORT_PX = 1280  # `c`/`z` are the interactive map's centre and zoom at this width
PARAMS = ("l", "sector", "city", "kind", "level", "named", "measure", "lang", "c", "z", "cluster", "bbox",
          "paper", "orient", "dpi", "title")
_TITLE_MAX = 120
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class ExportError(ValueError):
    """A parameter that cannot be honoured; the message says which and why (a 400)."""


@dataclass(frozen=True)
class ExportView:
    layers: tuple[str, ...] = tuple(DEFAULT_VISIBLE)
    sector: str = ""
    city: int | None = None
    kind: str = ""
    level: str = ""
    named: str = ""  # doc | cat: zones the documents name, or catalogue-only zones
    measure: str = "none"
    lang: str = "zh"
    center: tuple[float, float] | None = None  # lon, lat
    zoom: float | None = None
    cluster: str | None = None
    bbox: tuple[float, float, float, float] | None = None
    paper: str = "A4"
    orient: str = "landscape"
    dpi: int = DEFAULT_DPI
    title: str = ""
    extras: dict = field(default_factory=dict, compare=False, hash=False)

    @property
    def size_inches(self) -> tuple[float, float]:
        w, h = PAPERS_MM[self.paper]
        if self.orient == "portrait":
            w, h = h, w
        return w / 25.4, h / 25.4

    @property
    def pixels(self) -> tuple[int, int]:
        w, h = self.size_inches
        return int(w * self.dpi), int(h * self.dpi)  # as matplotlib sizes the canvas

    def key(self) -> tuple:
        """Everything that changes the picture (for caching)."""
        return (self.layers, self.sector, self.city, self.kind, self.level, self.named, self.measure,
                self.lang,
                self.center, self.zoom, self.cluster, self.bbox, self.paper, self.orient, self.dpi,
                self.title)


@dataclass(frozen=True)
class Known:
    """What the current build contains, to check values against."""
    sectors: frozenset[str]
    cities: frozenset[int]
    clusters: frozenset[str]
    kinds: frozenset[str]


def known_values(store) -> Known:
    meta = store.meta
    return Known(
        sectors=frozenset(s["code"] for s in meta.get("sectors", [])),
        cities=frozenset(int(a) for a in store.layer("cities").adcode),
        clusters=frozenset(str(i) for i in store.layer("clusters").id),
        kinds=frozenset(str(k) for k in store.layer("parks").kind.dropna()),
    )


def _one(args: Mapping[str, Sequence[str]], name: str) -> str | None:
    values = args.get(name) or []
    if len(values) > 1:
        raise ExportError(f"{name} given more than once")
    return values[0] if values else None


def _number(text: str, name: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ExportError(f"{name}: {text[:40]!r} is not a number") from None
    if not math.isfinite(value):
        raise ExportError(f"{name} must be finite")
    return value


def _in_china(lon: float, lat: float) -> bool:
    return CHINA[0] <= lon <= CHINA[2] and CHINA[1] <= lat <= CHINA[3]


def parse_export(args: Mapping[str, Sequence[str]], known: Known, *,
                 allowed: Sequence[str] = PARAMS, default_dpi: int = DEFAULT_DPI) -> ExportView:
    """The view an export request asks for; ExportError for anything it cannot honour.
    `args` maps each parameter to its values (werkzeug's MultiDict.to_dict(flat=False))."""
    unknown = sorted(set(args) - set(allowed))
    if unknown:
        raise ExportError(f"unknown parameter(s): {', '.join(u[:40] for u in unknown)}; "
                          f"allowed: {', '.join(allowed)}")
    v: dict = {}
    if (text := _one(args, "l")) is not None:
        layers = tuple(x for x in text.split(",") if x)
        bad = [x for x in layers if x not in LAYERS]
        if bad or not layers:
            what = f"unknown layer(s) {bad[:5]}" if bad else "name at least one layer"
            raise ExportError(f"l: {what}; layers: {', '.join(LAYERS)}")
        v["layers"] = layers
    if text := _one(args, "sector"):
        if text not in known.sectors:
            raise ExportError(f"sector: {text[:40]!r} is not a sector code (see /api/collections)")
        v["sector"] = text
    if text := _one(args, "city"):
        if not text.isdigit() or int(text) not in known.cities:
            raise ExportError(f"city: {text[:40]!r} is not a city adcode of the atlas")
        v["city"] = int(text)
    if text := _one(args, "kind"):
        if text not in known.kinds:
            raise ExportError(f"kind: {text[:40]!r} is not a park kind of the atlas")
        v["kind"] = text
    if text := _one(args, "level"):
        if text not in ("national", "provincial", "municipal"):
            raise ExportError("level must be national, provincial or municipal")
        v["level"] = text
    if text := _one(args, "named"):
        if text not in ("doc", "cat"):
            raise ExportError("named must be doc (named in the documents) or cat (catalogue only)")
        v["named"] = text
    if text := _one(args, "measure"):
        ok = text in MEASURES or (text.startswith("sector:") and text[7:] in known.sectors)
        if not ok:
            raise ExportError(f"measure must be one of {', '.join(MEASURES)} or sector:<code>")
        v["measure"] = text
    if text := _one(args, "lang"):
        if text not in LANGS:
            raise ExportError(f"lang must be one of {', '.join(LANGS)}")
        v["lang"] = text
    if text := _one(args, "cluster"):
        if text not in known.clusters:
            raise ExportError(f"cluster: no cluster {text[:60]!r}")
        v["cluster"] = text
    if text := _one(args, "bbox"):
        parts = text.split(",")
        if len(parts) != 4:
            raise ExportError("bbox must be minlon,minlat,maxlon,maxlat")
        x0, y0, x1, y1 = (_number(p, "bbox") for p in parts)
        if not (x0 < x1 and y0 < y1):
            raise ExportError("bbox: min must be below max")
        if not (_in_china(x0, y0) and _in_china(x1, y1)):
            raise ExportError(f"bbox must lie within China ({', '.join(map(str, CHINA))})")
        v["bbox"] = (x0, y0, x1, y1)
    c, z = _one(args, "c"), _one(args, "z")
    if c is not None or z is not None:
        if c is None or z is None:
            raise ExportError("c (lat,lon) and z (zoom) go together")
        parts = c.split(",")
        if len(parts) != 2:
            raise ExportError("c must be lat,lon")
        lat, lon = (_number(p, "c") for p in parts)
        if not _in_china(lon, lat):
            raise ExportError("c must lie within China")
        zoom = _number(z, "z")
        if not 4 <= zoom <= 14:
            raise ExportError("z must be between 4 and 14")
        v["center"], v["zoom"] = (lon, lat), zoom
    if text := _one(args, "paper"):
        if text not in PAPERS_MM:
            raise ExportError(f"paper must be one of {', '.join(PAPERS_MM)}")
        v["paper"] = text
    if text := _one(args, "orient"):
        if text not in ORIENTS:
            raise ExportError("orient must be landscape or portrait")
        v["orient"] = text
    dpi = default_dpi
    if (text := _one(args, "dpi")) is not None:
        if not text.isdigit() or not DPI_RANGE[0] <= int(text) <= DPI_RANGE[1]:
            raise ExportError(f"dpi must be a whole number from {DPI_RANGE[0]} to {DPI_RANGE[1]}")
        dpi = int(text)
    v["dpi"] = dpi
    if (text := _one(args, "title")) is not None:
        if len(text) > _TITLE_MAX or _CONTROL.search(text):
            raise ExportError(f"title: at most {_TITLE_MAX} characters, no control characters")
        v["title"] = text.strip()
    view = ExportView(**v)
    w, h = view.pixels
    if w * h > MAX_PIXELS:
        raise ExportError(f"{view.paper} {view.orient} at {view.dpi} dpi is {w}×{h} pixels; "
                          f"at most {MAX_PIXELS // 1_000_000} megapixels: lower dpi")
    return view


def zoom_extent(center: tuple[float, float], zoom: float,
                aspect: float) -> tuple[float, float, float, float]:
    """The lon/lat box the interactive map shows at this centre and zoom, for a viewport
    NOMINAL_VIEWPORT_PX wide with the paper's aspect (width / height)."""
    lon, lat = center
    deg_per_px = 360.0 / (256 * 2 ** zoom)
    half_w = NOMINAL_VIEWPORT_PX / 2 * deg_per_px
    half_h = half_w / aspect * math.cos(math.radians(lat))
    return (lon - half_w, lat - half_h, lon + half_w, lat + half_h)
