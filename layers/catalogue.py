"""The national catalogue of development zones (2018): rows checked, joined to the seed parks.

`catalogue/dev-zones-2018-hubei.csv` is a copy of the catalogue's Hubei rows and is never
edited; what the project adds lives beside it as source records (`zones`: where a zone is
placed and which seed park it is; `catalogue_terms`: leading-industry words → sectors).
A malformed row or a missing record fails the build with `file:line: ...: field: what`, the
same SourceError the source records raise, so the previous build keeps serving.
"""

from __future__ import annotations

import csv
import math
import re
from dataclasses import dataclass
from pathlib import Path

from layers.sources import Record, SourceError, Sources, placement_problems

CATALOGUE_FILE = "catalogue/dev-zones-2018-hubei.csv"  # below the sources folder
COLUMNS = ("seq", "code", "name_zh", "province", "place", "approval_level", "zone_type", "approved",
           "area_ha", "leading_industries")
# The catalogue as a document, listed with the seed documents in every provenance answer.
DOCUMENT = {
    "doc": "dev-zones-2018-hubei.csv", "code": "DZ2018",
    "title_zh": "中国开发区审核公告目录（2018年版）",
    "title_en": "China Development Zone Audit Announcement Catalogue (2018 edition)",
    "issuer_zh": "国家发展改革委、科技部、国土资源部、住房城乡建设部、商务部、海关总署（公告2018年第4号）",
    "year": 2018, "region": "china",
}
LEVELS = {"国务院": "national", "省政府": "provincial"}
# (approval level, zone type) -> (the parks layer's kind, the code's first four characters)
TYPES: dict[tuple[str, str], tuple[str, str]] = {
    ("国务院", "经济技术开发区"): ("economic_zone", "G421"),
    ("国务院", "高新技术产业开发区"): ("high_tech_zone", "G422"),
    ("国务院", "海关特殊监管区域"): ("customs_zone", "G423"),
    ("省政府", "经济开发区"): ("economic_zone", "S427"),
    ("省政府", "高新技术产业开发区"): ("high_tech_zone", "S428"),
    ("省政府", "工业园区"): ("industrial_park", "S429"),
}
CODE_RE = re.compile(r"^[GS]42\d{4}$")
DATE_RE = re.compile(r"^(19|20)\d\d\.(0[1-9]|1[0-2])$")


@dataclass(frozen=True)
class Zone:
    """One catalogue row, checked."""

    line: int
    seq: int
    code: str
    name_zh: str
    approval_level: str
    zone_type: str
    approved: str  # YYYY.MM
    area_ha: float
    leading: tuple[str, ...]

    @property
    def level(self) -> str:
        return LEVELS[self.approval_level]

    @property
    def kind(self) -> str:
        return TYPES[(self.approval_level, self.zone_type)][0]

    @property
    def feature_id(self) -> str:
        """The id of a zone that no seed names (a seed park keeps its own id)."""
        return f"zone-{self.code.lower()}"


@dataclass
class Catalogue:
    zones: list[Zone]
    places: dict[str, Record]  # code -> zones record
    terms: dict[str, list[str]]  # leading-industry term -> sectors

    def sectors(self, zone: Zone) -> list[str]:
        """Canonical sectors of a zone's leading industries, in the catalogue's order."""
        out: list[str] = []
        for term in zone.leading:
            out += [s for s in self.terms[term] if s not in out]
        return out

    def by_park(self) -> dict[str, Zone]:
        """Seed park id -> its catalogue zone."""
        zones = {z.code: z for z in self.zones}
        return {rec.data["park"]: zones[code] for code, rec in self.places.items() if rec.data.get("park")}

    def provenance(self, zone: Zone) -> dict:
        return {"doc": DOCUMENT["doc"], "file": CATALOGUE_FILE, "line": zone.line, "seq": zone.seq,
                "code": zone.code, "name_zh": zone.name_zh, "approval_level": zone.approval_level,
                "zone_type": zone.zone_type}


def read_rows(path: Path, rel: str, problems: list[str], codes: set[str]) -> list[Zone]:
    """Every row that passes the checks; each fault is added to `problems` as file:line and
    every code written in the file, good row or not, to `codes`."""
    if not path.is_file():
        problems.append(f"{rel}: catalogue file not found")
        return []
    zones: list[Zone] = []
    first: dict[str, int] = {}
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader, None)
        if tuple(header or ()) != COLUMNS:
            problems.append(f"{rel}:1: header: expected {','.join(COLUMNS)}")
            return []
        for row in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != len(COLUMNS):
                problems.append(f"{rel}:{line}: expected {len(COLUMNS)} fields, found {len(row)}")
                continue
            codes.add(row[1].strip())
            zone = _check_row(dict(zip(COLUMNS, (c.strip() for c in row))), rel, line, problems, first)
            if zone:
                zones.append(zone)
    return zones


def _check_row(r: dict[str, str], rel: str, line: int, problems: list[str],
               first: dict[str, int]) -> Zone | None:
    code = r["code"]
    where = f"{rel}:{line}: catalogue {code or '?'}"
    bad: list[str] = []
    if not code:
        bad.append(f"{where}: code: missing")
    elif not CODE_RE.match(code):
        bad.append(f"{where}: code: {code!r} is not a catalogue code (G42…/S42… and four digits)")
    elif code in first:
        bad.append(f"{where}: code: duplicate code (first at line {first[code]})")
    else:
        first[code] = line
    if not r["seq"].isdigit():
        bad.append(f"{where}: seq: {r['seq']!r} is not a number")
    if not r["name_zh"]:
        bad.append(f"{where}: name_zh: missing")
    if r["province"] != "湖北省":
        bad.append(f"{where}: province: {r['province']!r} is not 湖北省")
    level, typ = r["approval_level"], r["zone_type"]
    if level not in LEVELS:
        bad.append(f"{where}: approval_level: {level!r} is not one of {', '.join(LEVELS)}")
    elif (level, typ) not in TYPES:
        types = [t for lv, t in TYPES if lv == level]
        bad.append(f"{where}: zone_type: {typ!r} is not one of {', '.join(types)} for {level}")
    elif code and not code.startswith(TYPES[(level, typ)][1]):
        bad.append(f"{where}: code: a {level} {typ} has a code starting "
                   f"{TYPES[(level, typ)][1]}, not {code[:4]!r}")
    if not DATE_RE.match(r["approved"]):
        bad.append(f"{where}: approved: {r['approved']!r} is not a date YYYY.MM")
    try:
        area = float(r["area_ha"])
        if not math.isfinite(area) or area <= 0:
            raise ValueError
    except ValueError:
        bad.append(f"{where}: area_ha: {r['area_ha']!r} is not a positive number of hectares")
        area = math.nan
    leading = tuple(t.strip() for t in r["leading_industries"].split("、"))
    if not all(leading):
        bad.append(f"{where}: leading_industries: {r['leading_industries']!r} has an empty term")
    problems += bad
    if bad:
        return None
    return Zone(line, int(r["seq"]), code, r["name_zh"], level, typ, r["approved"], area, leading)


def _check_records(cat: Catalogue, sources: Sources, adcodes: dict[int, int | None], rel: str,
                   problems: list[str], codes_in_file: set[str]) -> None:
    codes = {z.code: z for z in cat.zones}
    parks = sources.by_id("parks")
    for zone in cat.zones:
        where = f"{rel}:{zone.line}: catalogue {zone.code}"
        if zone.code not in cat.places:
            problems.append(f"{where}: code: no zones record (catalogue/zones.yaml)")
        for term in zone.leading:
            if term not in cat.terms:
                problems.append(f"{where}: leading_industries: {term!r} has no catalogue_terms record "
                                "(catalogue/terms.yaml)")
    linked: dict[str, Record] = {}
    for code, rec in cat.places.items():
        d = rec.data
        placed = codes.get(code)
        if placed is None:
            if code not in codes_in_file:  # a malformed row is reported once, at its line
                problems.append(f"{rec.where('code')}: not a code of {CATALOGUE_FILE}")
            continue
        if d.get("name_zh") != placed.name_zh:
            problems.append(f"{rec.where('name_zh')}: is not the catalogue's name {placed.name_zh!r}")
        county, city = d.get("county_adcode"), d.get("city_adcode")
        # The catalogue gives no place: the finest place given is read from the name.
        finest = "county_adcode" if county else "city_adcode"
        if finest not in rec.inferred:
            problems.append(f"{rec.where(finest)}: a catalogue zone's place is inferred from its name: "
                            "write {value, inferred: true, basis}")
        if county and adcodes and adcodes.get(county) != city and county != city:
            problems.append(f"{rec.where('county_adcode')}: {county} is not in city {city}")
        problems.extend(placement_problems(rec, sources.streets, sources.county_names))
        park = d.get("park")
        if not park:
            if not d.get("name_en"):
                problems.append(f"{rec.where()}: name_en: required for a zone that is not a seed park")
            continue
        if "park" not in rec.inferred:
            problems.append(f"{rec.where('park')}: the link to a seed park is inferred: "
                            "write {value, inferred: true, basis}")
        if park not in parks:
            problems.append(f"{rec.where('park')}: {park!r} is not a park id")
            continue
        if park in linked:
            problems.append(f"{rec.where('park')}: park {park} is already zone {linked[park].id}")
        linked[park] = rec
        pd_ = parks[park].data
        if pd_.get("city_adcode") != city:
            problems.append(f"{rec.where('city_adcode')}: {city} is not the city of park {park}")
        if county and pd_.get("county_adcode") not in (None, county):
            problems.append(f"{rec.where('county_adcode')}: {county} is not the county of park {park}")


def load_catalogue(sources_dir: Path, sources: Sources,
                   adcodes: dict[int, int | None] | None = None) -> Catalogue:
    """Read and check the catalogue against its records; raise SourceError listing every fault."""
    rel = f"{sources_dir.name}/{CATALOGUE_FILE}"
    problems: list[str] = []
    codes: set[str] = set()
    zones = read_rows(sources_dir / CATALOGUE_FILE, rel, problems, codes)
    cat = Catalogue(zones, {r.id: r for r in sources.of("zones")},
                    {r.data["term"]: r.data["sectors"] for r in sources.of("catalogue_terms")})
    _check_records(cat, sources, adcodes or {}, rel, problems, codes)
    if problems:
        raise SourceError(problems)
    return cat
