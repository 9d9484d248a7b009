"""Source records: load the hand-written YAML under data/sources/, validate, resolve.

The rules are documented in data/sources/README.md. Every problem is reported as
`file:line: kind id: field: what is wrong`, and all problems are collected before failing,
so one build run shows everything an editor has to fix.

Run `python -m layers.sources` to validate without building.
"""

from __future__ import annotations

import hashlib
import os
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from layers import places

REPO = Path(__file__).resolve().parent.parent
DEFAULT_SOURCES = REPO / "data" / "sources"
ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")

KINDS = ("documents", "sectors", "sector_terms", "roles", "parks", "clusters", "projects", "targets",
         "zones", "catalogue_terms")

STATUS = ("existing", "planned", "applying", "suggested")
ENUMS: dict[str, tuple[str, ...]] = {
    "term_level": ("field", "subsector", "industry", "chain"),
    "role_type": ("role", "leading_industry", "resource", "brand", "designation"),
    "park_kind": (
        "high_tech_zone", "economic_zone", "industrial_park", "base", "demonstration_zone",
        "chemical_zone", "town", "other",
    ),
    "level": ("national", "provincial", "municipal"),
    "status": STATUS,
    # What the point is (layers/places.py); a record placed at its park leaves precision out.
    "park_precision": ("town", "district", "county", "city", "province"),
    "project_precision": ("town", "district", "county", "city", "province"),
    "cluster_kind": ("corridor", "cluster", "chain", "city_group", "belt"),
    "target_status": ("target", "achieved", "baseline"),
    "zone_precision": ("town", "district", "county", "city"),
}

# field -> (type, required). Types: str int num bool adcode sector park doc, "enum:<name>",
# "[T]" for lists, and the composite types sources / members / subject / defect.
COMMON = {"id": ("id", True), "sources": ("sources", True), "note": ("str", False)}
SCHEMA: dict[str, dict[str, tuple[str, bool]]] = {
    "documents": {
        "doc": ("str", True), "code": ("str", True), "title_zh": ("str", True),
        "title_en": ("str", True), "issuer_zh": ("str", False), "year": ("int", True),
        "region": ("str", True), "doc_number": ("str", False), "date": ("str", False),
        "sha256": ("str", True), "note": ("str", False),
    },
    "sectors": {"code": ("str", True), "name_zh": ("str", True), "name_en": ("str", True),
                "description": ("str", False)},
    "sector_terms": {
        **COMMON, "doc": ("doc", True), "term": ("str", True), "level": ("enum:term_level", True),
        "parent_term": ("str", False), "sectors": ("[sector]", True),
    },
    "roles": {
        **COMMON, "adcode": ("adcode", True), "type": ("enum:role_type", True),
        "text_zh": ("str", True), "text_en": ("str", True), "sectors": ("[sector]", False),
        "year": ("int", False),
    },
    "parks": {
        **COMMON, "name_zh": ("str", True), "name_en": ("str", True), "aliases": ("[str]", False),
        "kind": ("enum:park_kind", True), "level": ("enum:level", False),
        "designations": ("[str]", False), "status": ("enum:status", False),
        "city_adcode": ("adcode", True), "county_adcode": ("adcode", False),
        "sectors": ("[sector]", True), "industries_zh": ("[str]", False),
        "parent_park": ("park", False), "precision": ("enum:park_precision", False),
        "geonameid": ("int", False), "year": ("int", False),
    },
    "clusters": {
        **COMMON, "name_zh": ("str", True), "name_en": ("str", True), "aliases": ("[str]", False),
        "kind": ("enum:cluster_kind", True), "ordered": ("bool", True),
        "members": ("members", True), "sectors": ("[sector]", True),
        "industries_zh": ("[str]", False), "status": ("enum:status", False),
        "year": ("int", False),
    },
    "projects": {
        **COMMON, "name_zh": ("str", True), "name_en": ("str", False),
        "enterprise": ("str", False), "sectors": ("[sector]", True),
        "industries_zh": ("[str]", False), "park": ("park", False), "alt_parks": ("[park]", False),
        "city_adcode": ("adcode", True), "county_adcode": ("adcode", False),
        "precision": ("enum:project_precision", False), "geonameid": ("int", False),
        "same_as_park": ("bool", False),
        "compound": ("bool", False),
        "block": ("str", False), "year": ("int", False),
    },
    "targets": {
        **COMMON, "subject": ("subject", True), "metric_zh": ("str", True),
        "metric_en": ("str", True), "value": ("num", False), "value_text": ("str", True),
        "unit": ("str", False), "year": ("int", False), "status": ("enum:target_status", True),
        "defect": ("defect", False),
    },
    # The catalogue of development zones (catalogue/): where each zone is placed and which
    # seed park it is, and its leading-industry words; rows are checked in layers/catalogue.py.
    "zones": {
        "code": ("str", True), "name_zh": ("str", True), "name_en": ("str", False),
        "city_adcode": ("adcode", True), "county_adcode": ("adcode", False),
        "precision": ("enum:zone_precision", True), "geonameid": ("int", False), "park": ("park", False),
        "note": ("str", False),
    },
    "catalogue_terms": {"term": ("str", True), "sectors": ("[sector]", True), "note": ("str", False)},
}
# Fields whose value is a translation or the project's own wording: never need a basis.


class SourceError(ValueError):
    """One or more source records are invalid; str() lists every problem, one per line."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


@dataclass
class Record:
    kind: str
    data: dict[str, Any]  # inferred values unwrapped
    file: str  # path relative to the sources folder's parent, for messages
    line: int
    field_lines: dict[str, int]
    inferred: dict[str, str] = field(default_factory=dict)  # field -> basis

    @property
    def id(self) -> str:
        d = self.data
        return str(d.get("id") or d.get("code") or d.get("term") or d.get("doc"))

    def where(self, fld: str | None = None) -> str:
        line = self.field_lines.get(fld, self.line) if fld else self.line
        return f"{self.file}:{line}: {self.kind} {self.id}" + (f": {fld}" if fld else "")


@dataclass
class Sources:
    records: dict[str, list[Record]]
    seeds_checked: bool
    # the national division codes the placements were checked against (divisions/)
    streets: dict[str, tuple[str, int]] = field(default_factory=dict)  # street code -> (name, county)
    county_names: dict[int, str] = field(default_factory=dict)  # county-level adcode -> name

    def of(self, kind: str) -> list[Record]:
        return self.records.get(kind, [])

    def by_id(self, kind: str) -> dict[str, Record]:
        return {r.id: r for r in self.of(kind)}

    def count_by_doc(self, kind: str) -> dict[str, int]:
        """How many records of a kind cite each document (a record citing two counts twice)."""
        counts: dict[str, int] = {}
        for rec in self.of(kind):
            for doc in sorted({s["doc"] for s in rec.data.get("sources", [])}):
                counts[doc] = counts.get(doc, 0) + 1
        return counts


# --- YAML with line numbers -------------------------------------------------------------

class _LineLoader(yaml.SafeLoader):
    pass


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> dict:
    mapping = yaml.SafeLoader.construct_mapping(loader, node, deep=True)
    mapping["__line__"] = node.start_mark.line + 1
    mapping["__lines__"] = {
        k.value: k.start_mark.line + 1 for k, _ in node.value if isinstance(k, yaml.ScalarNode)
    }
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _strip_lines(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip_lines(v) for k, v in value.items() if k not in ("__line__", "__lines__")}
    if isinstance(value, list):
        return [_strip_lines(v) for v in value]
    return value


# --- seeds ----------------------------------------------------------------------------------

DEFAULT_DOCUMENTS = REPO / "data" / "documents"


def default_seeds_dir() -> Path:
    """The documents shipped in the repository (ATLAS_SEEDS may point elsewhere, for tests)."""
    env = os.environ.get("ATLAS_SEEDS")
    return Path(env) if env else DEFAULT_DOCUMENTS


def join_lines(lines: list[str], first: int, last: int) -> str:
    """Lines first..last (1-based) as one text: the seeds break sentences across lines, often
    with blank lines between, so a quote that spans a break is matched on the joined text."""
    return "".join(line.strip() for line in lines[first - 1:last])


def load_seed_lines(seeds_dir: Path) -> dict[str, list[str]]:
    seeds = {}
    for path in sorted(seeds_dir.glob("*.txt")):
        seeds[path.name] = path.read_text(encoding="utf-8").split("\n")
    return seeds


def _check_document_files(ctx: _Context, docs: list[Record], seeds_dir: Path) -> None:
    """Each document's file is present with the bytes the manifest names (sha256), so a
    quote checked against it is checked against the document as published."""
    for rec in docs:
        path = seeds_dir / str(rec.data.get("doc"))
        if not path.is_file():
            ctx.problems.append(f"{rec.where('doc')}: {path.name} not found in {seeds_dir.name}/")
        elif hashlib.sha256(path.read_bytes()).hexdigest() != rec.data.get("sha256"):
            ctx.problems.append(f"{rec.where('sha256')}: {path.name} does not match its sha256")


# --- validation -------------------------------------------------------------------------------

@dataclass
class _Context:
    adcodes: dict[int, int | None]  # adcode -> parent adcode; empty: not checked
    sectors: set[str]
    docs: set[str]
    seeds: dict[str, list[str]] | None
    problems: list[str]
    streets: dict[str, tuple[str, int]] = field(default_factory=dict)  # street code -> (name, county)
    county_names: dict[int, str] = field(default_factory=dict)  # county-level adcode -> name


def _check_type(ctx: _Context, rec: Record, fld: str, typ: str, value: Any) -> None:
    where = rec.where(fld)
    if typ.startswith("["):
        inner = typ[1:-1]
        if not isinstance(value, list) or not value:
            ctx.problems.append(f"{where}: expected a non-empty list")
            return
        for item in value:
            _check_type(ctx, rec, fld, inner, item)
        return
    if typ.startswith("enum:"):
        allowed = ENUMS[typ[5:]]
        if value not in allowed:
            ctx.problems.append(f"{where}: {value!r} is not one of {', '.join(allowed)}")
        return
    checks = {
        "str": lambda v: isinstance(v, str) and v.strip() != "",
        "id": lambda v: isinstance(v, str) and ID_RE.match(v) is not None,
        "int": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "num": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
        "bool": lambda v: isinstance(v, bool),
        "park": lambda v: isinstance(v, str) and ID_RE.match(v) is not None,
    }
    if typ in checks:
        if not checks[typ](value):
            ctx.problems.append(f"{where}: {value!r} is not a valid {typ}")
    elif typ == "adcode":
        if not isinstance(value, int) or (ctx.adcodes and value not in ctx.adcodes):
            ctx.problems.append(f"{where}: {value!r} is not a known adcode")
    elif typ == "sector":
        if value not in ctx.sectors:
            ctx.problems.append(f"{where}: {value!r} is not a sector code in sectors.yaml")
    elif typ == "doc":
        if value not in ctx.docs:
            ctx.problems.append(f"{where}: {value!r} is not a document in documents.yaml")
    elif typ == "sources":
        _check_sources(ctx, rec, fld, value)
    elif typ == "members":
        _check_members(ctx, rec, fld, value)
    elif typ == "subject":
        if not isinstance(value, dict) or not set(value) & {"adcode", "park", "sector"}:
            ctx.problems.append(f"{where}: needs at least one of adcode, park, sector")
            return
        for key, sub in (("adcode", "adcode"), ("park", "park"), ("sector", "sector")):
            if key in value:
                _check_type(ctx, rec, fld, sub, value[key])
        extra = set(value) - {"adcode", "park", "sector"}
        if extra:
            ctx.problems.append(f"{where}: unknown keys {sorted(extra)}")
    elif typ == "defect":
        if not isinstance(value, dict) or not all(
            isinstance(value.get(k), str) and value[k].strip() for k in ("text", "reading")
        ):
            ctx.problems.append(f"{where}: needs text and reading")
        elif set(value) - {"text", "reading", "note"} or not isinstance(value.get("note", ""), str):
            ctx.problems.append(f"{where}: a defect is {{text, reading, note?}} (strings)")
        elif value["text"] not in str(rec.data.get("value_text", "")):
            ctx.problems.append(f"{where}: text {value['text']!r} is not part of value_text")
    else:  # pragma: no cover - a schema typo
        raise AssertionError(f"unknown type {typ}")


def _check_sources(ctx: _Context, rec: Record, fld: str, value: Any) -> None:
    where = rec.where(fld)
    if not isinstance(value, list) or not value:
        ctx.problems.append(f"{where}: at least one citation {{doc, line, quote}} is required")
        return
    for i, cite in enumerate(value):
        if not isinstance(cite, dict) or not {"doc", "line", "quote"} <= set(cite) <= \
                {"doc", "line", "to", "quote"}:
            ctx.problems.append(f"{where}[{i}]: a citation has doc, line, quote and optionally to")
            continue
        doc, line, quote = cite["doc"], cite["line"], cite["quote"]
        last = cite.get("to", line)
        if doc not in ctx.docs:
            ctx.problems.append(f"{where}[{i}]: {doc!r} is not a document in documents.yaml")
            continue
        if not isinstance(line, int) or line < 1 or not isinstance(quote, str) or not quote:
            ctx.problems.append(f"{where}[{i}]: line must be a positive int, quote a string")
            continue
        if not isinstance(last, int) or not line <= last <= line + 10:
            ctx.problems.append(f"{where}[{i}]: to must be a line number from line to line+10")
            continue
        if ctx.seeds is None:
            continue
        lines = ctx.seeds.get(doc)
        if lines is None:
            ctx.problems.append(f"{where}[{i}]: seed {doc} not found in the seeds folder")
        elif last > len(lines):
            ctx.problems.append(f"{where}[{i}]: {doc} has only {len(lines)} lines, not {last}")
        elif last == line and quote not in lines[line - 1]:
            ctx.problems.append(f"{where}[{i}]: quote {quote!r} is not on {doc} line {line}")
        elif last > line and quote not in join_lines(lines, line, last):
            ctx.problems.append(f"{where}[{i}]: quote {quote!r} is not in {doc} lines {line}-{last}")


def _check_members(ctx: _Context, rec: Record, fld: str, value: Any) -> None:
    where = rec.where(fld)
    if not isinstance(value, list) or not value:
        ctx.problems.append(f"{where}: expected a non-empty list of members")
        return
    seen = set()
    for i, member in enumerate(value):
        if isinstance(member, int):  # plain adcode
            member = {"adcode": member}
        if not isinstance(member, dict) or "adcode" not in member:
            ctx.problems.append(f"{where}[{i}]: a member is an adcode or {{adcode, role_zh, ...}}")
            continue
        extra = set(member) - {"adcode", "role_zh", "role_en", "sources"}
        if extra:
            ctx.problems.append(f"{where}[{i}]: unknown keys {sorted(extra)}")
        _check_type(ctx, rec, f"{fld}", "adcode", member["adcode"])
        if member["adcode"] in seen:
            ctx.problems.append(f"{where}[{i}]: {member['adcode']} is listed twice")
        seen.add(member["adcode"])
        if "role_zh" in member:
            if "sources" not in member:
                ctx.problems.append(f"{where}[{i}]: a member role needs its own sources")
            else:
                _check_sources(ctx, rec, fld, member["sources"])


def _unwrap(ctx: _Context, rec: Record, raw: dict) -> None:
    """Replace inferred values by their value, remembering the basis."""
    for fld, value in list(raw.items()):
        if isinstance(value, dict) and "inferred" in value:
            if value.get("inferred") is not True or "value" not in value:
                ctx.problems.append(f"{rec.where(fld)}: an inferred value is "
                                    "{value: ..., inferred: true, basis: ...}")
                continue
            basis = value.get("basis")
            if not isinstance(basis, str) or len(basis.strip()) < 10:
                ctx.problems.append(f"{rec.where(fld)}: an inferred value needs a basis that says "
                                    "what it rests on")
                continue
            if fld == "sources":
                ctx.problems.append(f"{rec.where(fld)}: sources cannot be inferred")
                continue
            raw[fld] = value["value"]
            rec.inferred[fld] = basis.strip()


def _validate(ctx: _Context, rec: Record) -> None:
    schema = SCHEMA[rec.kind]
    _unwrap(ctx, rec, rec.data)
    for fld in rec.data:
        if fld not in schema:
            ctx.problems.append(f"{rec.where(fld)}: unknown field (see data/sources/README.md)")
    for fld, (typ, required) in schema.items():
        if fld not in rec.data or rec.data[fld] is None:
            if required:
                ctx.problems.append(f"{rec.where()}: {fld}: required field is missing")
            continue
        _check_type(ctx, rec, fld, typ, rec.data[fld])


def _cross_check(ctx: _Context, sources: Sources) -> None:
    parks = sources.by_id("parks")
    for kind in ("parks", "projects"):
        for rec in sources.of(kind):
            d = rec.data
            refs = [d["park"]] if d.get("park") else []
            refs += d.get("alt_parks") or []
            if d.get("parent_park"):
                refs.append(d["parent_park"])
            for ref in refs:
                if ref not in parks:
                    ctx.problems.append(f"{rec.where()}: park {ref!r} is not a park id")
            if d.get("park") in parks and parks[d["park"]].data.get("city_adcode") != d.get("city_adcode"):
                ctx.problems.append(f"{rec.where('city_adcode')}: {d.get('city_adcode')} is not the "
                                    f"city of park {d['park']}")
            county, city = d.get("county_adcode"), d.get("city_adcode")
            if county and ctx.adcodes and ctx.adcodes.get(county) != city and county != city:
                ctx.problems.append(f"{rec.where('county_adcode')}: {county} is not in city {city}")
            if d.get("same_as_park") and not d.get("park"):
                ctx.problems.append(f"{rec.where('same_as_park')}: a project that is a park names that park")
            ctx.problems.extend(placement_problems(rec, ctx.streets, ctx.county_names))
    for rec in sources.of("targets"):
        ref = rec.data.get("subject", {}).get("park")
        if ref and ref not in parks:
            ctx.problems.append(f"{rec.where('subject')}: park {ref!r} is not a park id")


def at_park(rec: Record) -> str | None:
    """The park whose point a record takes: a project's park; a park's parent park when the
    park gives no county of its own."""
    d = rec.data
    if rec.kind == "projects":
        return d.get("park")
    if rec.kind == "parks" and not d.get("county_adcode"):
        return d.get("parent_park")
    return None


def placement_problems(rec: Record, streets: dict[str, tuple[str, int]],
                       county_names: dict[int, str]) -> list[str]:
    """The precision a record may claim with the fields it gives (layers/places.py)."""
    d = rec.data
    if at_park(rec):
        if "precision" in d:
            return [f"{rec.where('precision')}: a record placed at its park takes the park's point "
                    "and precision: leave precision out"]
        return []
    county, city, given = d.get("county_adcode"), d.get("city_adcode"), d.get("precision")
    if given is None:
        return [f"{rec.where()}: precision: required field is missing"]
    wants: tuple[str, ...]
    if isinstance(city, int) and city % 10000 == 0:
        wants = ("province",)  # a province code (xx0000): the seed names no city
    elif d.get("geonameid"):
        wants = ("town",)
    elif county:
        wants = ("county", "district")
    else:
        wants = ("city",)
    if given not in wants:
        return [f"{rec.where('precision')}: is {given!r}; with the fields given it must be "
                f"{' or '.join(repr(w) for w in wants)}"]
    out = []
    if given == "town":
        if "geonameid" not in rec.inferred:
            out.append(f"{rec.where('geonameid')}: a GeoNames place is identified by name: write "
                       "{value, inferred: true, basis}")
        problem = places.town_problem(d["geonameid"], d.get("name_zh") or "", county, streets,
                                      county_names)
        if problem:
            out.append(f"{rec.where('geonameid')}: {problem}")
    if given == "district":
        problem = places.district_problem(rec.inferred.get("county_adcode"), county, streets)
        if problem:
            out.append(f"{rec.where('county_adcode')}: {problem}")
    return out


def _read_files(root: Path, problems: list[str]) -> list[Record]:
    records = []
    for path in sorted(root.rglob("*.yaml")):
        rel = path.relative_to(root.parent).as_posix()
        try:
            doc = yaml.load(path.read_text(encoding="utf-8"), Loader=_LineLoader)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = f":{mark.line + 1}" if mark else ""
            problems.append(f"{rel}{line}: not valid YAML: {getattr(exc, 'problem', exc)}")
            continue
        if doc is None:
            continue
        if not isinstance(doc, dict):
            problems.append(f"{rel}:1: a source file maps kinds to lists of records")
            continue
        for kind, items in doc.items():
            if kind in ("__line__", "__lines__"):
                continue
            if kind not in KINDS:
                problems.append(f"{rel}:{doc['__lines__'].get(kind, 1)}: unknown kind {kind!r}; "
                                f"expected one of {', '.join(KINDS)}")
                continue
            if not isinstance(items, list):
                problems.append(f"{rel}:{doc['__lines__'].get(kind, 1)}: {kind} must be a list")
                continue
            for item in items:
                if not isinstance(item, dict):
                    problems.append(f"{rel}: {kind}: every record is a mapping")
                    continue
                records.append(Record(kind, _strip_lines(item), rel, item["__line__"],
                                      item["__lines__"]))
    return records


def _given(records: list[Record], key: str) -> set[str]:
    """The values of `key` the records give; a record without one is reported on its own, and
    must not make a missing reference elsewhere look known."""
    return {r.data[key] for r in records if r.data.get(key) is not None}


def load_sources(
    root: Path = DEFAULT_SOURCES,
    adcodes: dict[int, int | None] | None = None,
    seeds_dir: Path | None = None,
) -> Sources:
    """Read and validate every record; raise SourceError listing all problems.

    `adcodes` maps known adcodes to their parent (from the boundary layers); `seeds_dir`
    enables the quote check against the seed texts.
    """
    problems: list[str] = []
    if not root.is_dir():
        raise SourceError([f"{root.name}: source folder not found"])
    records = _read_files(root, problems)
    by_kind: dict[str, list[Record]] = {k: [] for k in KINDS}
    for rec in records:
        by_kind[rec.kind].append(rec)
    seeds = load_seed_lines(seeds_dir) if seeds_dir else None
    ctx = _Context(
        adcodes=adcodes or {},
        sectors=_given(by_kind["sectors"], "code"),
        docs=_given(by_kind["documents"], "doc"),
        seeds=seeds,
        problems=problems,
        streets=places.load_streets(root),
        county_names=places.load_county_names(root),
    )
    for kind in KINDS:
        seen: dict[str, Record] = {}
        for rec in by_kind[kind]:
            _validate(ctx, rec)
            if rec.id in seen:
                problems.append(f"{rec.where()}: duplicate id (first at "
                                f"{seen[rec.id].file}:{seen[rec.id].line})")
            seen[rec.id] = rec
    if seeds_dir:
        _check_document_files(ctx, by_kind["documents"], seeds_dir)
    sources = Sources(by_kind, seeds_checked=seeds is not None, streets=ctx.streets,
                      county_names=ctx.county_names)
    _cross_check(ctx, sources)
    if problems:
        raise SourceError(problems)
    return sources


def iter_citations(rec: Record) -> Iterable[dict]:
    """Every citation of a record, including those of cluster member roles."""
    yield from rec.data.get("sources", [])
    for member in rec.data.get("members", []) if rec.kind == "clusters" else []:
        if isinstance(member, dict):
            yield from member.get("sources", [])


def main(argv: list[str]) -> int:
    from geo.boundaries import BoundaryPackageError, admin_index

    try:
        adcodes = {u.adcode: u.parent_adcode for u in admin_index()}
    except BoundaryPackageError as exc:
        print(f"warning: adcodes not checked: {exc}", file=sys.stderr)
        adcodes = {}
    seeds = default_seeds_dir()
    try:
        sources = load_sources(Path(argv[0]) if argv else DEFAULT_SOURCES, adcodes, seeds)
    except SourceError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        print(f"{len(exc.problems)} problem(s)", file=sys.stderr)
        return 1
    counts = ", ".join(f"{k} {len(v)}" for k, v in sources.records.items())
    quotes = "quotes checked" if sources.seeds_checked else "quotes NOT checked (no seeds folder)"
    print(f"ok: {counts}; {quotes}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
