"""One view of the atlas, read from a query string one way for every surface.

The live map (`/`, `/map/<layer>`, `/cluster/<id>`, `/embed…`), the print maps and offline
page (`/export/map.<fmt>`) and the briefing deck (`/export/briefing.pptx`) describe a view with
the same parameters: PARAMS is their one table (name, allowed values or range, default, the
surfaces that take it, the API's parameter of the same meaning, the error text), and
`parse_view` their one parser. The browser reads the same table from the page's data
(`table_for_page`): static/atlas/core.js `readState` and share.js build their links from it.

One policy for every surface: a value a parameter does not allow — `lang=fr`, a city that is
not in the atlas, a layer that does not exist — is a 400 with the API's error vocabulary,
`{"code": "InvalidParameterValue", "description": ...}`; a parameter named twice is one too.
A parameter a surface does not take is refused by the exports and the deck (what they were
asked for must be what they draw) and ignored by the live map, whose shared links pick up
messengers' tracking parameters (`?from=singlemessage`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from typing import Any

from layers.registry import LAYERS
from layers.words import LANGS
from server.errors import ApiError, one
from server.view.choices import BASEMAPS, DEFAULT_VISIBLE, MEASURES

SURFACES = ("map", "export", "deck")
MAP, EXPORT, DECK = SURFACES
API = "api"  # the OGC API and the downloads parse their own parameters; they check these here
PAPERS_MM = {"A4": (297.0, 210.0), "A3": (420.0, 297.0), "16:9": (338.67, 190.5)}  # landscape
ORIENTS = ("landscape", "portrait")
PARK_LEVELS = ("national", "provincial", "municipal")
DPI_RANGE = (72, 600)
DEFAULT_DPI = 200
MAX_PIXELS = 40_000_000  # about A4 at 600 dpi; A3 at 600 dpi would be 70 MP
ZOOM_RANGE = (4, 18)  # the live map's zooms (4 to 17 with a tile base map)
# China's extent (with its islands); a bbox or centre outside it is a mistake, not a view.
CHINA = (73.0, 17.0, 135.5, 54.0)
TITLE_MAX = 120
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_ALL = (MAP, EXPORT, DECK)
_DRAWN = (MAP, EXPORT)


class ViewError(ApiError):
    """A parameter value the view cannot honour: a 400 on every surface, in the API's words."""

    def __init__(self, description: str):
        super().__init__(400, "InvalidParameterValue", description)


@dataclass(frozen=True)
class Param:
    """One view parameter. `values`: the allowed values, when they are fixed; `known`: the
    build's set they must belong to (sectors, cities, clusters, kinds); `api`: the API items
    parameter of the same meaning, for the record (the API parses its own)."""
    name: str
    surfaces: tuple[str, ...]
    default: Any
    error: str  # the description of a bad value; {value} is the value given
    values: tuple[str, ...] = ()
    known: str = ""
    range: tuple[float, ...] | None = None  # low, high; for c the box minlon, minlat, maxlon, maxlat
    api: str = ""


PARAMS: dict[str, Param] = {p.name: p for p in (
    Param("lang", (*_ALL, API), "zh", "lang must be one of " + ", ".join(LANGS), values=LANGS),
    Param("base", (MAP,), "none", "base must be one of " + ", ".join(BASEMAPS), values=tuple(BASEMAPS)),
    Param("layer", (MAP,), None, "layer: no layer {value}; layers: " + ", ".join(LAYERS),
          values=tuple(LAYERS)),
    Param("cluster", _ALL, None, "cluster: no cluster {value}", known="clusters"),
    Param("c", _DRAWN, None, "c must be lat,lon within China, with z", range=CHINA),  # lon/lat box
    Param("z", _DRAWN, None, f"z must be a zoom from {ZOOM_RANGE[0]} to {ZOOM_RANGE[1]}, with c",
          range=ZOOM_RANGE),
    Param("l", _DRAWN, tuple(DEFAULT_VISIBLE),
          "l names layers of the atlas, not {value}; layers: " + ", ".join(LAYERS), values=tuple(LAYERS)),
    Param("sector", _DRAWN, "", "sector: {value} is not a sector code (see /api/collections)",
          known="sectors", api="sector"),
    Param("city", _ALL, None, "city: {value} is not a city adcode of the atlas", known="cities",
          api="city_adcode"),
    Param("kind", _DRAWN, "", "kind: {value} is not a park kind of the atlas", known="kinds", api="kind"),
    Param("level", _DRAWN, "", "level must be one of " + ", ".join(PARK_LEVELS), values=PARK_LEVELS,
          api="level"),
    Param("named", _DRAWN, "", "named must be doc (named in the documents) or cat (catalogue only)",
          values=("doc", "cat"), api="named_in_documents"),
    Param("measure", _DRAWN, "none", "measure must be one of " + ", ".join(MEASURES) + " or sector:<code>",
          values=MEASURES),
    Param("sel", (MAP,), "", "sel must be <layer>:<id> of a layer of the atlas"),
    Param("legend", (MAP,), "", "legend must be 1 (an embed's legend open)", values=("1",)),
    Param("filters", (MAP,), "", "filters must be 1 (an embed shows its filters)", values=("1",)),
    Param("bbox", (EXPORT,), None, "bbox must be minlon,minlat,maxlon,maxlat, min below max, within "
          "China (" + ", ".join(map(str, CHINA)) + ")", api="bbox"),
    Param("paper", _DRAWN, "A4", "paper must be one of " + ", ".join(PAPERS_MM), values=tuple(PAPERS_MM)),
    Param("orient", _DRAWN, "landscape", "orient must be landscape or portrait", values=ORIENTS),
    Param("dpi", (EXPORT,), DEFAULT_DPI,
          f"dpi must be a whole number from {DPI_RANGE[0]} to {DPI_RANGE[1]}", range=DPI_RANGE),
    Param("title", (EXPORT,), "", f"title: at most {TITLE_MAX} characters, no control characters"),
)}


def check(name: str, text: str) -> str:
    """One value of a parameter with fixed values, for a surface that parses its own
    parameters (the API): the value, or ViewError (a 400) in the words of every other surface."""
    p = PARAMS[name]
    assert p.values and not p.known, name
    if text not in p.values:
        raise _bad(name, text)
    return text


def names_for(surface: str) -> tuple[str, ...]:
    """The parameters a surface takes, in the table's order."""
    return tuple(p.name for p in PARAMS.values() if surface in p.surfaces)


@dataclass(frozen=True)
class View:
    """What one request shows: the page (live map), the features and filters, the extent, the
    language, and for an export the paper."""
    page: str = "atlas"  # the live map's page: atlas | layer | cluster
    layer: str | None = None  # /map/<layer>: the one layer shown
    embed: bool = False
    base: str = "none"
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
    sel: str = ""
    paper: str = "A4"
    orient: str = "landscape"
    dpi: int = DEFAULT_DPI
    title: str = ""

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
        """Everything that changes an export's picture (for caching)."""
        return tuple(getattr(self, f.name) for f in fields(self)
                     if f.name not in ("page", "layer", "embed", "base", "sel"))


@dataclass(frozen=True)
class Known:
    """What the current build contains, to check values against."""
    sectors: frozenset[str]
    cities: frozenset[int]
    clusters: frozenset[str]
    kinds: frozenset[str]


_known_cache: dict[int, tuple[tuple, Known]] = {}


def known_values(store) -> Known:
    """The build's sectors, cities, clusters and park kinds; made once per build and store."""
    meta = store.meta
    stamp = (meta.get("built_at"), getattr(store.snapshot(), "stamp", None))
    hit = _known_cache.get(id(store))
    if hit is not None and hit[0] == stamp:
        return hit[1]
    known = Known(
        sectors=frozenset(s["code"] for s in meta.get("sectors", [])),
        cities=frozenset(int(a) for a in store.layer("cities").adcode),
        clusters=frozenset(str(i) for i in store.layer("clusters").id),
        kinds=frozenset(str(k) for k in store.layer("parks").kind.dropna()),
    )
    _known_cache[id(store)] = (stamp, known)
    return known


def _number(text: str, name: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ViewError(f"{name}: {text[:40]!r} is not a number") from None
    if not math.isfinite(value):
        raise ViewError(f"{name} must be finite")
    return value


def _in_china(lon: float, lat: float) -> bool:
    return CHINA[0] <= lon <= CHINA[2] and CHINA[1] <= lat <= CHINA[3]


def _bad(name: str, value: str = "") -> ViewError:
    return ViewError(PARAMS[name].error.format(value=repr(value[:60])))


def _layers(text: str, known: Known) -> tuple[str, ...]:
    layers = tuple(x for x in text.split(",") if x)
    bad = [x for x in layers if x not in LAYERS]
    if bad or not layers:
        raise _bad("l", ",".join(bad[:5]))
    return layers


def _measure(text: str, known: Known) -> str:
    if text in MEASURES or (text.startswith("sector:") and text[7:] in known.sectors):
        return text
    raise _bad("measure", text)


def _bbox(text: str, known: Known) -> tuple[float, float, float, float]:
    parts = text.split(",")
    if len(parts) != 4:
        raise _bad("bbox")
    x0, y0, x1, y1 = (_number(p, "bbox") for p in parts)
    if not (x0 < x1 and y0 < y1 and _in_china(x0, y0) and _in_china(x1, y1)):
        raise _bad("bbox")
    return (x0, y0, x1, y1)


def _sel(text: str, known: Known) -> str:
    lid, _, fid = text.partition(":")
    if lid not in LAYERS or not fid:
        raise _bad("sel", text)
    return text


def _dpi(text: str, known: Known) -> int:
    if not text.isdigit() or not DPI_RANGE[0] <= int(text) <= DPI_RANGE[1]:
        raise _bad("dpi", text)
    return int(text)


def _title(text: str, known: Known) -> str:
    if len(text) > TITLE_MAX or _CONTROL.search(text):
        raise _bad("title", text)
    return text.strip()


# the parameters whose values a set cannot say (`c` and `z` are read together: _centre)
_SHAPED: dict[str, Callable[[str, Known], Any]] = {
    "l": _layers, "measure": _measure, "bbox": _bbox, "sel": _sel, "dpi": _dpi, "title": _title}


def _value(p: Param, text: str, known: Known) -> Any:
    """One parameter's value, checked: by its shape, else against the build's set (a city's
    adcode is a number), else against the table's values."""
    if p.name in _SHAPED:
        return _SHAPED[p.name](text, known)
    if p.known:
        value: Any = int(text) if p.name == "city" and text.isdigit() else text
        if value not in getattr(known, p.known):
            raise _bad(p.name, text)
        return value
    if text not in p.values:
        raise _bad(p.name, text)
    return text


def _centre(c: str | None, z: str | None) -> tuple[tuple[float, float], float] | None:
    if c is None and z is None:
        return None
    if c is None or z is None:
        raise ViewError("c (lat,lon) and z (zoom) go together")
    parts = c.split(",")
    if len(parts) != 2:
        raise _bad("c", c)
    lat, lon = (_number(p, "c") for p in parts)
    if not _in_china(lon, lat):
        raise _bad("c", c)
    zoom = _number(z, "z")
    if not ZOOM_RANGE[0] <= zoom <= ZOOM_RANGE[1]:
        raise _bad("z", z)
    return (lon, lat), zoom


def _one(args: Mapping[str, Any], name: str) -> str | None:
    return one(args, name, ViewError)


def parse_view(args: Mapping[str, Any], surface: str, known: Known, *, page: str = "atlas",
               layer: str | None = None, cluster: str | None = None, embed: bool = False,
               tianditu_key: str = "", default_dpi: int = DEFAULT_DPI) -> View:
    """The view a request on `surface` (map | export | deck) asks for; ViewError (a 400) for a
    value it cannot honour. `args` maps each parameter to its values (werkzeug's
    MultiDict.to_dict(flat=False)); `page`, `layer` and `cluster` are what the map's path names."""
    if surface not in SURFACES:
        raise ValueError(surface)
    allowed = names_for(surface)
    unknown = sorted(set(args) - set(allowed))
    if unknown and surface != MAP:
        raise ViewError(f"unknown parameter(s): {', '.join(u[:40] for u in unknown)}; "
                        f"allowed: {', '.join(allowed)}")
    got: dict[str, Any] = {}
    for name in allowed:
        text = _one(args, name)
        if name in ("c", "z") or text is None:
            continue
        if text == "" and name not in ("l", "dpi", "title"):  # an empty filter is no filter
            continue
        got[name] = _value(PARAMS[name], text, known)
    v: dict[str, Any] = {k: got[k] for k in ("lang", "sector", "city", "kind", "level", "named", "measure",
                                              "bbox", "sel", "paper", "orient", "title") if k in got}
    if "l" in got:
        v["layers"] = got["l"]
    if surface in _DRAWN and (centre := _centre(_one(args, "c"), _one(args, "z"))):
        v["center"], v["zoom"] = centre
    v["dpi"] = got.get("dpi", default_dpi)
    base = got.get("base", "none")
    v["base"] = "none" if BASEMAPS[base].needs_key and not tianditu_key else base
    # the map's path names its page; /embed (and /) may name it in the query instead
    if surface == MAP and page == "atlas" and "cluster" in got:
        page, cluster = "cluster", got["cluster"]
    elif surface == MAP and page == "atlas" and "layer" in got:
        page, layer = "layer", got["layer"]
    elif surface != MAP:
        cluster = got.get("cluster")
    view = View(page=page, layer=layer, cluster=cluster, embed=embed, **v)
    w, h = view.pixels
    if surface == EXPORT and w * h > MAX_PIXELS:
        raise ViewError(f"{view.paper} {view.orient} at {view.dpi} dpi is {w}×{h} pixels; "
                        f"at most {MAX_PIXELS // 1_000_000} megapixels: lower dpi")
    return view


def table_for_page() -> list[dict[str, Any]]:
    """The table as the browser reads it: each parameter's name, default, surfaces, range and
    the API's name for it (the Share panel's data links filter the downloads with it)."""
    return [{"name": p.name, "default": list(p.default) if isinstance(p.default, tuple) else p.default,
             "surfaces": list(p.surfaces), "range": list(p.range) if p.range else None, "api": p.api}
            for p in PARAMS.values()]
