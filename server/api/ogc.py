"""OGC API – Features (Part 1, Core) over the built atlas, framework-free.

Everything here takes parsed request parameters (a mapping of name → list of values, the
base URLs) and returns plain data or `(status, headers, body)`; `server/api.py` and
`server/downloads.py` only adapt Flask to it. Nothing from the URL is ever used as a file
path or a property name that is not declared in `layers/registry.py`: collection ids are
looked up in the registry, filter names are checked against the layer's `filterable`
fields, and everything else answers 400 or 404 (`ApiError`).

Every read goes through the store's `Provider` seam (`server/store/provider.py`): items,
one feature, counts and extents, whichever backend holds the layer.

The synthetic layers (`layers.registry.SYNTH_LAYERS`) are collections only when the loaded
file has them (`store.synthetic_ids()`), marked `synthetic: true`, without downloads.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from urllib.parse import urlencode

from layers.registry import LAYERS, Layer
from layers.words import LANGS
from server.api import html
from server.errors import bad, not_found, one
from server.store.provider import Provider
from server.store.query import Query, dumps, provenance
from server.view import params

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
CRS84_NAMES = {CRS84, "https://www.opengis.net/def/crs/OGC/1.3/CRS84", "[OGC:CRS84]", "OGC:CRS84",
               "urn:ogc:def:crs:OGC:1.3:CRS84", "CRS84"}
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
]
JSON = "application/json"
GEOJSON = "application/geo+json"
HTML = "text/html"
OPENAPI = "application/vnd.oai.openapi+json;version=3.0"
# Parameters every items request may carry; anything else must be a declared filter.
STANDARD = ("f", "lang", "bbox", "bbox-crs", "limit", "offset", "q")
# Documented aliases of filter names: `sector=auto` filters the list field `sectors`.
ALIASES = {"sector": "sectors"}


# ---------------------------------------------------------------------------------------------
# Parameters


def filter_names(layer: Layer) -> dict[str, str]:
    """Accepted filter parameter → layer field (the declared filterable fields + aliases)."""
    names = {name: name for name in layer.filterable}
    names.update({alias: target for alias, target in ALIASES.items() if target in names})
    return names


_INTEGER = re.compile(r"\+?[0-9]{1,12}")


def _int(text: str, name: str, minimum: int) -> int:
    text = text.strip()
    if not _INTEGER.fullmatch(text):  # one optional sign: int() refuses "++5" (was a 500)
        raise bad(f"{name} must be an integer ≥ {minimum}, not {text[:40]!r}")
    value = int(text)
    if value < minimum:
        raise bad(f"{name} must be an integer ≥ {minimum}, not {value}")
    return value


def parse_bbox(text: str) -> tuple[float, float, float, float]:
    parts = text.split(",")
    if len(parts) not in (4, 6):
        raise bad("bbox must be 4 (or 6) comma-separated numbers: minlon,minlat,maxlon,maxlat")
    try:
        nums = [float(p) for p in parts]
    except ValueError:
        raise bad(f"bbox must be numbers, not {text[:80]!r}") from None
    if not all(math.isfinite(v) for v in nums):
        raise bad("bbox must be finite numbers")
    x0, y0, x1, y1 = (nums[0], nums[1], nums[3], nums[4]) if len(nums) == 6 else nums
    if not (-180 <= x0 <= 180 and -180 <= x1 <= 180 and -90 <= y0 <= 90 and -90 <= y1 <= 90):
        raise bad("bbox is CRS84 longitude/latitude: longitudes within ±180, latitudes within ±90")
    if y0 > y1:
        raise bad("bbox: the minimum latitude is larger than the maximum")
    return (x0, y0, x1, y1)


def _filter_value(text: str, ftype: str, name: str):
    text = text.strip()
    if not text:
        raise bad(f"empty value for filter {name!r}")
    if ftype == "int":
        try:
            return int(text) if text.isascii() and len(text) <= 18 else int("x")
        except ValueError:
            raise bad(f"filter {name!r} takes integers, not {text[:40]!r}") from None
    if ftype == "float":
        try:
            value = float(text)
        except ValueError:
            raise bad(f"filter {name!r} takes numbers, not {text[:40]!r}") from None
        if not math.isfinite(value):
            raise bad(f"filter {name!r} takes finite numbers")
        return value
    if ftype == "bool":
        if text.lower() in ("true", "1", "yes"):
            return True
        if text.lower() in ("false", "0", "no"):
            return False
        raise bad(f"filter {name!r} takes true or false, not {text[:40]!r}")
    return text


def parse_query(layer: Layer, args: Mapping[str, Sequence[str]], *, default_limit: int | None,
                max_limit: int | None, formats: Sequence[str] = ("json", "html"),
                standard: Sequence[str] = STANDARD) -> Query:
    """Validate an items (or download) request. `args` maps each name to all its values.

    Unknown parameters, repeated ones, malformed bbox/limit/offset and filter values of the
    wrong type raise ApiError(400). A limit above `max_limit` is clamped to it (the server may
    return fewer features than asked, never more)."""
    names = filter_names(layer)
    unknown = sorted(k for k in args if k not in standard and k not in names)
    if unknown:
        allowed = ", ".join(list(standard) + sorted(names))
        raise bad(f"unknown parameter {unknown[0][:60]!r} for collection {layer.id!r}; "
                  f"allowed: {allowed}")
    text = one(args, "f")
    fmt = formats[0] if text is None else text.strip().lower()
    if fmt == "geojson" and "json" in formats:
        fmt = "json"
    if fmt not in formats:
        raise bad(f"f must be one of {', '.join(formats)}")
    _language(args)
    crs = one(args, "bbox-crs")
    if crs is not None and crs.strip() not in CRS84_NAMES:
        raise bad(f"bbox-crs: only {CRS84} is supported")
    text = one(args, "bbox")
    bbox = parse_bbox(text) if text is not None else None
    text = one(args, "limit")
    limit = _int(text, "limit", 1) if text is not None else default_limit
    if limit is not None and max_limit is not None:
        limit = min(limit, max_limit)
    text = one(args, "offset")
    offset = _int(text, "offset", 0) if text is not None else 0
    text = one(args, "q")
    q = tuple(text.lower().split()) if text is not None else ()
    filters: dict[str, tuple] = {}
    for name in sorted(args):
        if name not in names:
            continue
        target = names[name]
        if target in filters:
            raise bad(f"filter {target!r} is given twice (as {name!r} and its alias)")
        text = one(args, name) or ""
        ftype = layer.field(target).type
        vtype = "str" if ftype == "json" else ftype
        filters[target] = tuple(_filter_value(v, vtype, name) for v in text.split(","))
    pairs = tuple((k, v) for k, vs in args.items() for v in vs)
    return Query(fmt, bbox, limit, offset, q, tuple(sorted(filters.items())), pairs)


# ---------------------------------------------------------------------------------------------
# Selection


# ---------------------------------------------------------------------------------------------
# Large layers
#
# `prepare` makes every feature's GeoJSON, properties, search terms and id lookup up front:
# a few microseconds a feature, nothing for the atlas's few hundred, but minutes and gigabytes
# per process at a million. `prepare_large` keeps the loaded columns as numpy arrays and the
# geometries as loaded (rounded and oriented only if they are not already), builds the STRtree,
# and makes the rest on demand: a feature when it is answered, the id lookup on the first
# `items/<id>`, the search terms on the first `q`. `select_large` starts from the index's hits
# and tests the filters on those only (vectorised), so `bbox=…&limit=100` costs what its hits
# cost, not what the layer holds; without bbox or filters it selects a range, no array.


# ---------------------------------------------------------------------------------------------
# Documents


def _link(href: str, rel: str, type_: str, title: str | None = None) -> dict:
    link = {"href": href, "rel": rel, "type": type_}
    if title:
        link["title"] = title
    return link


def _with(args: Sequence[tuple[str, str]], **changes) -> str:
    """The query string of `args` with some parameters replaced (None removes one), in sorted
    order: an answer is cached and tagged by the sorted query (server.api.routes._key), so
    its links must not depend on the order a client wrote the parameters in."""
    keys = {k.replace("_", "-") for k in changes}
    pairs = [(k, v) for k, v in args if k not in keys]
    pairs += [(k.replace("_", "-"), str(v)) for k, v in changes.items() if v is not None]
    return ("?" + urlencode(sorted(pairs))) if pairs else ""


def self_links(url: str, args: Sequence[tuple[str, str]], fmt: str, json_type: str = JSON) -> list:
    other = "html" if fmt == "json" else "json"
    types = {"json": json_type, "html": HTML}
    return [_link(url + _with(args, f=fmt if args else None), "self", types[fmt], "this document"),
            _link(url + _with(args, f=other), "alternate", types[other], f"this document as {other}")]


def landing(api: str, args, fmt: str) -> dict:
    return {
        "title": "Hubei Cluster Atlas · 湖北产业集群地图",
        "description": "Industrial clusters, parks, corridors and projects of Hubei (and Hunan) "
                       "from five policy documents, as OGC API – Features.",
        "links": self_links(api, args, fmt) + [
            _link(f"{api}/openapi", "service-desc", OPENAPI, "the API definition (OpenAPI 3.0)"),
            _link(f"{api}/openapi?f=html", "service-doc", HTML, "the API definition as HTML"),
            _link(f"{api}/conformance", "conformance", JSON, "conformance classes"),
            _link(f"{api}/collections", "data", JSON, "the collections (layers)"),
        ],
    }


def conformance(api: str, args, fmt: str) -> dict:
    return {"conformsTo": CONFORMANCE, "links": self_links(f"{api}/conformance", args, fmt)}


def collection_doc(prep: Provider, api: str, root: str, download_formats: Mapping[str, str]) -> dict:
    layer = prep.layer
    url = f"{api}/collections/{layer.id}"
    links = [
        _link(url, "self", JSON, "this collection"),
        _link(f"{url}?f=html", "alternate", HTML, "this collection as HTML"),
        _link(f"{url}/items", "items", GEOJSON, "the features"),
        _link(f"{url}/items?f=html", "items", HTML, "the features as HTML"),
    ]
    links += [_link(f"{root}/download/{layer.id}.{ext}", "enclosure", media, f"download as {ext}")
              for ext, media in download_formats.items() if not layer.synthetic]
    doc = {
        "id": layer.id, "title": f"{layer.title_en} · {layer.title_zh}",
        "description": layer.description_en, "itemType": "feature",
        "crs": [CRS84], "storageCrs": CRS84,
        "links": links,
        "geometryType": layer.geometry_type,
        "numberOfFeatures": len(prep),
        "fields": [f.describe() for f in layer.fields],
        "filters": {name: layer.field(target).type for name, target in filter_names(layer).items()},
        "provenance": prep.provenance,
    }
    if prep.extent:
        doc["extent"] = {"spatial": {"bbox": [prep.extent], "crs": CRS84}}
    if layer.synthetic:  # generated benchmark data: say so wherever the collection is described
        doc["synthetic"] = True
        doc["keywords"] = ["synthetic", "合成数据", "benchmark"]
    return doc


def collections(store, api: str, root: str, args, fmt: str, download_formats) -> dict:
    return {
        "links": self_links(f"{api}/collections", args, fmt),
        "collections": [collection_doc(store.provider(lid), api, root, download_formats)
                        for lid in [*LAYERS, *store.synthetic_ids()]],
        "provenance": provenance(store.meta),
    }


def items(prep: Provider, query: Query, api: str) -> dict:
    features, matched = prep.select_page(query)
    return items_doc(prep.layer, features, matched, query, api, prep.built_at, prep.provenance)


def items_doc(layer: Layer, features: list, matched: int, query: Query, api: str, built_at: str,
              prov: dict) -> dict:
    """The FeatureCollection of one page, whichever backend selected it (`server.pgitems`)."""
    url = f"{api}/collections/{layer.id}/items"
    links = self_links(url, query.args, query.fmt, GEOJSON)
    t = GEOJSON if query.fmt == "json" else HTML
    if query.limit is not None and query.offset + len(features) < matched:
        links.append(_link(url + _with(query.args, offset=query.offset + len(features),
                                       limit=query.limit), "next", t, "next page"))
    if query.offset > 0:
        prev = max(0, query.offset - (query.limit or query.offset))
        links.append(_link(url + _with(query.args, offset=prev, limit=query.limit), "prev", t,
                           "previous page"))
    links.append(_link(f"{api}/collections/{layer.id}", "collection", JSON, "the collection"))
    return {
        "type": "FeatureCollection",
        "features": features,
        "numberMatched": matched, "numberReturned": len(features),
        # the build's time, not the request's: the body (and its strong ETag) depend only on
        # the build and the request, so it can be cached and revalidated
        "timeStamp": built_at or None,
        "links": links,
        "provenance": prov,
    }


def feature(prep: Provider, fid: str, api: str, args, fmt: str) -> dict:
    found = prep.select_one(fid)
    if found is None:
        raise not_found(f"no feature {fid[:80]!r} in collection {prep.layer.id!r}")
    url = f"{api}/collections/{prep.layer.id}"
    return {**found,
            "links": self_links(f"{url}/items/{fid}", args, fmt, GEOJSON) + [
                _link(url, "collection", JSON, "the collection")],
            "provenance": prep.provenance}


def _language(args: Mapping[str, Sequence[str]]) -> None:
    """`lang`, as every surface reads it (server/view/params.py); the API's data carries both
    languages, so a good value changes nothing and a bad one is the same 400 as elsewhere."""
    text = one(args, "lang")
    if text is not None:
        params.check("lang", text)


def check_args(args: Mapping[str, Sequence[str]], allowed: Sequence[str] = ("f", "lang")) -> str:
    """For the documents that take only `f` (and `lang`): the format, or ApiError(400)."""
    unknown = sorted(k for k in args if k not in allowed)
    if unknown:
        raise bad(f"unknown parameter {unknown[0][:60]!r}; allowed: {', '.join(allowed)}")
    text = one(args, "f")
    fmt = "json" if text is None else text.strip().lower()
    if fmt not in ("json", "html"):
        raise bad("f must be json or html")
    _language(args)
    return fmt


# ---------------------------------------------------------------------------------------------
# OpenAPI


def _schema(ftype: str) -> dict:
    return {"int": {"type": "integer"}, "float": {"type": "number"},
            "bool": {"type": "boolean"}}.get(ftype, {"type": "string"})


def _param(name: str, where: str, schema: dict, description: str, required: bool = False,
           **extra) -> dict:
    return {"name": name, "in": where, "required": required, "description": description,
            "schema": schema, **extra}


def openapi(api: str, default_limit: int, max_limit: int, extra: Iterable[Layer] = ()) -> dict:
    """The API definition; `extra`: the synthetic layers the loaded file has."""
    f = _param("f", "query", {"type": "string", "enum": ["json", "html"], "default": "json"},
               "The format of the answer: json (default) or html.", style="form", explode=False)
    lang = _param("lang", "query", {"type": "string", "enum": list(LANGS), "default": "zh"},
                  "The language of the atlas's pages; the data carries both (zh, en).")
    error = {"description": "A bad request or an unknown resource",
             "content": {JSON: {"schema": {"$ref": "#/components/schemas/error"}}}}
    ok_json = {"description": "OK", "content": {JSON: {"schema": {"type": "object"}},
                                                  HTML: {"schema": {"type": "string"}}}}
    ok_geo = {"description": "OK", "content": {GEOJSON: {"schema": {"type": "object"}},
                                                 HTML: {"schema": {"type": "string"}}}}

    def doc(summary, op, params=(), ok=ok_json):
        return {"get": {"summary": summary, "operationId": op, "parameters": [f, lang, *params],
                        "responses": {"200": ok, "400": error, "404": error}}}

    paths = {
        "/": doc("Landing page", "getLandingPage"),
        "/conformance": doc("Conformance classes", "getConformance"),
        "/collections": doc("The collections (layers)", "getCollections"),
        "/openapi": doc("This API definition", "getOpenAPI"),
    }
    for layer in [*LAYERS.values(), *extra]:
        url = f"/collections/{layer.id}"
        paths[url] = doc(f"The collection {layer.id} ({layer.title_en})", f"describe_{layer.id}")
        params = [
            _param("bbox", "query", {"type": "array", "minItems": 4, "maxItems": 6,
                                     "items": {"type": "number"}},
                   "Only features that intersect minlon,minlat,maxlon,maxlat (CRS84).",
                   style="form", explode=False),
            _param("bbox-crs", "query", {"type": "string", "enum": [CRS84]},
                   "The CRS of bbox; only CRS84 is supported."),
            _param("limit", "query", {"type": "integer", "minimum": 1, "maximum": max_limit,
                                      "default": default_limit},
                   f"Features per page (default {default_limit}; larger values are clamped to "
                   f"{max_limit}).", style="form", explode=False),
            _param("offset", "query", {"type": "integer", "minimum": 0, "default": 0},
                   "Features to skip (paging; follow the `next` link)."),
            _param("q", "query", {"type": "string"},
                   "Text search, case-insensitive, over names (Chinese, English, pinyin) and "
                   "aliases; several words must all match."),
        ]
        for name, target in filter_names(layer).items():
            fld = layer.field(target)
            what = (f"Features whose list `{target}` contains the value" if fld.type == "json"
                    else f"Features whose `{target}` equals the value")
            alias = f" (`{name}` is an alias of `{target}`)" if name != target else ""
            params.append(_param(name, "query", _schema("str" if fld.type == "json" else fld.type),
                                 f"{what}; several values separated by commas match any{alias}. "
                                 f"{fld.title_en} / {fld.title_zh}.", style="form", explode=False))
        paths[f"{url}/items"] = doc(f"Features of {layer.id}", f"getFeatures_{layer.id}", params,
                                    ok_geo)
        fid = _param("featureId", "path", _schema("int" if layer.field_names[0] == "adcode"
                                                  else "str"),
                     "The feature id (`adcode` for administrative units, `id` otherwise).", True)
        paths[f"{url}/items/{{featureId}}"] = doc(f"One feature of {layer.id}",
                                                  f"getFeature_{layer.id}", [fid], ok_geo)
    return {
        "openapi": "3.0.3",
        "info": {"title": "Hubei Cluster Atlas API", "version": "1.0.0",
                 "description": "OGC API – Features (Part 1, Core) over the atlas layers. JSON by "
                                "default, HTML with f=html. Errors answer {code, description}."},
        "servers": [{"url": api}],
        "paths": paths,
        "components": {"schemas": {"error": {
            "type": "object", "required": ["code", "description"],
            "properties": {"code": {"type": "string"}, "description": {"type": "string"}}}}},
    }


# ---------------------------------------------------------------------------------------------
# Answers (HTML: server/api/html.py, escaped templates, no script)


def render(kind: str, doc: dict, fmt: str, json_type: str = JSON) -> tuple[int, dict, bytes]:
    """(status, headers, body) of a document in the asked format."""
    if fmt == "html":
        return 200, {"Content-Type": "text/html; charset=utf-8"}, html.to_html(kind, doc)
    return 200, {"Content-Type": json_type}, dumps(doc)


