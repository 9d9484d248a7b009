"""Source records: load the hand-written YAML under data/sources/, validate, resolve.

The rules are documented in data/sources/README.md. Every problem is reported as
`file:line: kind id: field: what is wrong`, and all problems are collected before failing,
so one build run shows everything an editor has to fix.

What each kind's fields are, and what makes one value valid, is said by the pydantic models of
`layers/records.py`. This module reads the YAML keeping each field's line (`_LineLoader`),
unwraps inferred values, maps each pydantic error back to its field's line (`_problem`), and
checks what relates records to one another (`_cross_check`, `placement_problems`), duplicate
ids, and the documents' files.

Run `python -m layers.sources` to validate without building.
"""

from __future__ import annotations

import hashlib
import os
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError
from pydantic_core import ErrorDetails

from layers import places
from layers.records import KINDS, MODELS, Known

REPO = Path(__file__).resolve().parent.parent
DEFAULT_SOURCES = REPO / "data" / "sources"


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

# libyaml's parser when PyYAML has it: the pure-Python one took three quarters of a load
_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _LineLoader(_SafeLoader):  # type: ignore[valid-type,misc]
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
    known: Known  # what the records' values are checked against (layers/records.py)
    problems: list[str]
    streets: dict[str, tuple[str, int]] = field(default_factory=dict)  # street code -> (name, county)
    county_names: dict[int, str] = field(default_factory=dict)  # county-level adcode -> name

    @property
    def adcodes(self) -> dict[int, int | None]:
        return self.known.adcodes


def _unwrap(ctx: _Context, rec: Record, raw: dict) -> set[str]:
    """Replace inferred values by their value, remembering the basis; the fields whose inferred
    form is malformed."""
    bad = set()
    for fld, value in list(raw.items()):
        if isinstance(value, dict) and "inferred" in value:
            if value.get("inferred") is not True or "value" not in value:
                ctx.problems.append(f"{rec.where(fld)}: an inferred value is "
                                    "{value: ..., inferred: true, basis: ...}")
                bad.add(fld)
                continue
            basis = value.get("basis")
            if not isinstance(basis, str) or len(basis.strip()) < 10:
                ctx.problems.append(f"{rec.where(fld)}: an inferred value needs a basis that says "
                                    "what it rests on")
                bad.add(fld)
                continue
            if fld == "sources":
                ctx.problems.append(f"{rec.where(fld)}: sources cannot be inferred")
                bad.add(fld)
                continue
            raw[fld] = value["value"]
            rec.inferred[fld] = basis.strip()
    return bad


def _validate(ctx: _Context, rec: Record) -> set[str]:
    """Check a record against its kind's model (layers/records.py); report each problem at its
    field's line. Returns the fields found malformed."""
    bad = _unwrap(ctx, rec, rec.data)
    model = MODELS[rec.kind]
    # A field written empty (null) is a field not given; an unknown one is still unknown.
    given = {k: v for k, v in rec.data.items() if v is not None or k not in model.model_fields}
    try:
        model.model_validate(given, context=ctx.known)
    except ValidationError as exc:
        found = (_problem(rec, err) for err in exc.errors(include_url=False))
        ctx.problems.extend(dict.fromkeys(found))  # one part's failures may read alike
        bad |= {str(err["loc"][0]) for err in exc.errors() if err["loc"]}
    return bad


def _problem(rec: Record, err: ErrorDetails) -> str:
    """A pydantic error as `file:line: kind id: field[i].part: what is wrong`, on the line of
    the record's field (a field not given: the record's line)."""
    loc = err["loc"]
    if not loc:
        return f"{rec.where()}: {err['msg']}"
    fld, inner = str(loc[0]), list(loc[1:])
    if err["type"] == "missing" and not inner:
        return f"{rec.where()}: {fld}: required field is missing"
    if err["type"] == "extra_forbidden" and not inner:
        return f"{rec.where(fld)}: unknown field (see data/sources/README.md)"
    if inner and isinstance(inner[-1], str):
        inner.pop()  # the message names the value; the part it sits in is enough
    path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in inner)
    return f"{rec.where(fld)}{path}: {err['msg']}"


def _cross_check(ctx: _Context, sources: Sources, malformed: dict[int, set[str]]) -> None:
    """Relations between records. A relation is checked when the fields it reads are well
    formed (`malformed` maps a record's `id()` to the fields that are not): read from a
    malformed value it would only repeat that value's problem."""
    def given(rec: Record, *fields: str) -> bool:
        return not malformed.get(id(rec), set()) & set(fields)

    parks = sources.by_id("parks")
    for kind in ("parks", "projects"):
        for rec in sources.of(kind):
            d = rec.data
            refs = [d[f] for f in ("park", "parent_park") if d.get(f) and given(rec, f)]
            refs += (d.get("alt_parks") or []) if given(rec, "alt_parks") else []
            for ref in refs:
                if ref not in parks:
                    ctx.problems.append(f"{rec.where()}: park {ref!r} is not a park id")
            county, city = d.get("county_adcode"), d.get("city_adcode")
            if given(rec, "park", "city_adcode") and d.get("park") in parks \
                    and parks[d["park"]].data.get("city_adcode") != city:
                ctx.problems.append(f"{rec.where('city_adcode')}: {city} is not the city of park {d['park']}")
            if given(rec, "county_adcode", "city_adcode") and county and ctx.adcodes \
                    and ctx.adcodes.get(county) != city and county != city:
                ctx.problems.append(f"{rec.where('county_adcode')}: {county} is not in city {city}")
            if given(rec, "same_as_park", "park") and d.get("same_as_park") and not d.get("park"):
                ctx.problems.append(f"{rec.where('same_as_park')}: a project that is a park names that park")
            if given(rec, "park", "parent_park", "county_adcode", "city_adcode", "precision", "geonameid",
                     "name_zh"):
                ctx.problems.extend(placement_problems(rec, ctx.streets, ctx.county_names))
    for rec in sources.of("targets"):
        ref = rec.data.get("subject", {}).get("park") if given(rec, "subject") else None
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
    known = Known(adcodes=adcodes or {}, sectors=_given(by_kind["sectors"], "code"),
                  docs=_given(by_kind["documents"], "doc"), seeds=seeds)
    ctx = _Context(
        known=known,
        problems=problems,
        streets=places.load_streets(root),
        county_names=places.load_county_names(root),
    )
    malformed: dict[int, set[str]] = {}
    for kind in KINDS:
        seen: dict[str, Record] = {}
        for rec in by_kind[kind]:
            malformed[id(rec)] = _validate(ctx, rec)
            if rec.id in seen:
                problems.append(f"{rec.where()}: duplicate id (first at "
                                f"{seen[rec.id].file}:{seen[rec.id].line})")
            seen[rec.id] = rec
    if seeds_dir:
        _check_document_files(ctx, by_kind["documents"], seeds_dir)
    sources = Sources(by_kind, seeds_checked=seeds is not None, streets=ctx.streets,
                      county_names=ctx.county_names)
    _cross_check(ctx, sources, malformed)
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
