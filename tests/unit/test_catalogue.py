"""The 2018 national catalogue of development zones in the parks layer: every row once, seed
parks linked, honest places, sectors, and a malformed row failing the build as a record does."""

from __future__ import annotations

import csv
import re
import shutil
from pathlib import Path

import pytest

from layers.catalogue import CATALOGUE_FILE, DOCUMENT, load_catalogue
from layers.places import load_streets
from layers.sources import DEFAULT_SOURCES, SourceError, load_sources
from server.store import read_atlas
from tests.support.cli import atlas as run_atlas

CSV = DEFAULT_SOURCES / CATALOGUE_FILE
# Seed parks that are catalogue zones, and the code each must carry.
LINKED = {
    "wuhan-donghu-hitech": "G422031", "wuhan-etdz": "G421032", "wuhan-linkonggang-etdz": "G421170",
    "xiangyang-hitech": "G422032", "yichang-hitech": "G422118", "xiaogan-hitech": "G422120",
    "xn-park-xianning-gxq": "G422122", "jingmen-hitech": "G422119", "huanggang-hitech": "G422121",
    "huangshi-dayehu-hitech": "S428054",
}


def _rows() -> list[dict]:
    with CSV.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def layers(built_atlas):
    return read_atlas(built_atlas)


@pytest.fixture(scope="module")
def zones(layers):
    parks = layers[0]["parks"]
    return parks[parks.catalogue_code.notna()]


def test_every_catalogue_row_is_in_the_build_once(zones):
    codes = [r["code"] for r in _rows()]
    assert len(codes) == 103
    assert sorted(zones.catalogue_code) == sorted(codes)
    catalogue_only = zones[~zones.named_in_documents.astype(bool)]
    assert len(catalogue_only) == 103 - len(LINKED)
    assert all(i == f"zone-{c.lower()}" for i, c in zip(catalogue_only.id, catalogue_only.catalogue_code))


def test_each_seed_zone_in_the_catalogue_carries_its_code_and_level(layers):
    parks = layers[0]["parks"].set_index("id")
    rows = {r["code"]: r for r in _rows()}
    for pid, code in LINKED.items():
        park = parks.loc[pid]
        assert park.catalogue_code == code, pid
        assert bool(park.named_in_documents) and park.sources, pid  # both provenances
        assert park.catalogue["code"] == code and park.catalogue["doc"] == DOCUMENT["doc"]
        assert park.approved == rows[code]["approved"]
        assert park.area_ha == pytest.approx(float(rows[code]["area_ha"]))
        assert park.leading_industries_zh == rows[code]["leading_industries"].split("、")
        # the level is the catalogue's (S… codes are provincial), no longer inferred
        assert park.level == ("national" if code.startswith("G") else "provincial")
        assert "level" not in (park.inferred or {}) and "catalogue_code" in park.inferred
    others = parks[parks.named_in_documents.astype(bool) & ~parks.index.isin(list(LINKED))]
    assert others.catalogue_code.isna().all()


def test_xianning_zone_is_one_feature_under_both_names(layers):
    parks = layers[0]["parks"]
    named = parks[[n in ("咸宁高新区", "咸宁经济开发区") or (isinstance(a, list) and "咸宁经济开发区" in a)
                   for n, a in zip(parks.name_zh, parks.aliases)]]
    assert list(named.id) == ["xn-park-xianning-gxq"]
    assert named.iloc[0].approved == "2017.02"
    quotes = " ".join(s["quote"] for s in named.iloc[0].sources)
    assert "咸宁经济开发区" in quotes and "咸宁高新区" in quotes


def test_every_park_point_lies_in_its_county_and_city(layers):
    parks, counties, cities = (layers[0][k] for k in ("parks", "counties", "cities"))
    county_geoms = counties.set_index("adcode").geometry
    city_geoms = cities.set_index("adcode").geometry
    hubei = counties[counties.parent_adcode.astype(int) // 10000 == 42]
    for _, f in parks.iterrows():
        if f.precision == "province":
            continue
        assert city_geoms[int(f.city_adcode)].covers(f.geometry), f.id
        if f.county_adcode == f.county_adcode and f.county_adcode is not None:
            assert county_geoms[int(f.county_adcode)].covers(f.geometry), f.id
        if f.catalogue_code is not None:  # a catalogue zone falls in exactly one Hubei county
            assert hubei.geometry.covers(f.geometry).sum() == 1, f.id


def test_no_zone_is_placed_finer_than_its_basis(layers, zones):
    names = {int(a): n for lay in ("cities", "counties") for a, n in
             zip(layers[0][lay].adcode, layers[0][lay].name_zh)}
    streets = load_streets(DEFAULT_SOURCES)
    for _, z in zones.iterrows():
        has_county = z.county_adcode == z.county_adcode and z.county_adcode is not None
        assert z.precision in (("town", "district", "county") if has_county else ("city",)), z.id
        if z.named_in_documents:
            if has_county:  # the seed park's own county, with its own basis
                assert "county_adcode" in (z.inferred or {}), z.id
            continue
        field = "county_adcode" if has_county else "city_adcode"
        basis = z.inferred[field]
        words, _, rest = basis.partition(" in the name is ")
        assert words and words in z.name_zh, (z.id, basis)
        if z.precision in ("district", "town"):  # the words name a street or town of the district
            codes = re.findall(r"\d{9}", rest)
            assert codes and all(streets[c][1] == int(z.county_adcode) for c in codes), (z.id, basis)
            assert streets[codes[0]][0].startswith(words) or words in streets[codes[0]][0], (z.id, basis)
        else:
            assert rest.startswith(names[int(z[field])]), (z.id, basis)


def test_clusters_list_the_zones_in_their_members_with_matching_sectors(layers):
    clusters, parks = layers[0]["clusters"], layers[0]["parks"].set_index("id")
    listed = 0
    for _, c in clusters.iterrows():
        for zid in c.zones or []:
            z = parks.loc[zid]
            assert z.catalogue_code
            assert int(z.city_adcode) in c.members or int(z.county_adcode or 0) in c.members, (c.id, zid)
            listed += 1
    assert listed > 50
    textile = clusters.set_index("id").loc["c000-cotton-textile-cluster"]
    assert "zone-s427023" in textile.zones


# ---------------------------------------------------------------- malformed catalogue rows

@pytest.fixture(scope="module")
def real_sources():
    return load_sources(DEFAULT_SOURCES)


def _broken(tmp_path: Path, code: str, column: str, value: str | None) -> Path:
    """A sources folder whose catalogue has one cell changed (value None drops the row's code
    into a duplicate of the first row's)."""
    root = tmp_path / "sources"
    (root / "catalogue").mkdir(parents=True)
    with CSV.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    col = rows[0].index(column)
    for row in rows[1:]:
        if row[1] == code:
            row[col] = rows[1][col] if value is None else value
    with (root / CATALOGUE_FILE).open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerows(rows)
    return root


@pytest.mark.parametrize(("code", "column", "value", "message"), [
    ("S427002", "code", "", "catalogue ?: code: missing"),
    ("S427002", "approved", "2006-08", "approved: '2006-08' is not a date YYYY.MM"),
    ("S427002", "approved", "2006.13", "approved: '2006.13' is not a date YYYY.MM"),
    ("S427002", "area_ha", "约200", "area_ha: '约200' is not a positive number of hectares"),
    ("S427002", "code", None, "code: duplicate code (first at line 2)"),
    ("S427002", "approval_level", "市政府", "approval_level: '市政府' is not one of 国务院, 省政府"),
    ("S427002", "zone_type", "保税区", "zone_type: '保税区' is not one of"),
    ("S427002", "leading_industries", "出版、航天", "leading_industries: '航天' has no catalogue_terms"),
])
def test_a_malformed_row_names_file_line_and_field(tmp_path, real_sources, code, column, value, message):
    root = _broken(tmp_path, code, column, value)
    with pytest.raises(SourceError) as err:
        load_catalogue(root, real_sources)
    line = 1 + [r["code"] for r in _rows()].index(code) + 1
    where = f"sources/{CATALOGUE_FILE}:{line}: "
    assert any(p.startswith(where) and message in p for p in err.value.problems), err.value.problems


def test_broken_catalogue_fails_the_build_and_the_last_build_keeps_serving(built_atlas, tmp_path,
                                                                          sources_copy):
    out = tmp_path / "atlas.gpkg"
    shutil.copy(built_atlas, out)
    before = out.read_bytes()
    path = sources_copy / CATALOGUE_FILE
    path.write_text(path.read_text(encoding="utf-8").replace(",2006.08,70.58,", ",2006.08,n/a,", 1),
                    encoding="utf-8")
    terms = sources_copy / "catalogue" / "terms.yaml"
    kept = [t for t in terms.read_text(encoding="utf-8").splitlines() if "{term: 出版," not in t]
    terms.write_text("\n".join(kept) + "\n", encoding="utf-8")
    result = run_atlas("build", "--out", str(out), "--sources", str(sources_copy))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "sources/catalogue/dev-zones-2018-hubei.csv:22: catalogue S427003: area_ha: 'n/a'" in result.stderr
    assert "catalogue S427002: leading_industries: '出版' has no catalogue_terms record" in result.stderr
    assert "previous atlas.gpkg is unchanged and keeps serving" in result.stderr
    assert out.read_bytes() == before


def test_a_zone_record_must_rest_its_place_on_the_name(tmp_path, sources_copy):
    path = sources_copy / "catalogue" / "zones.yaml"
    text = path.read_text(encoding="utf-8")
    start = text.index("  - code: S427002")
    block = text[start:text.index("  - code:", start + 5)]
    fixed = block.replace("    county_adcode:\n      value: 420102\n", "    county_adcode: 420102\n") \
        .split("      inferred: true")[0].rstrip("\n") + "\n    precision: county\n"
    path.write_text(text.replace(block, fixed), encoding="utf-8")
    sources = load_sources(sources_copy)
    with pytest.raises(SourceError) as err:
        load_catalogue(sources_copy, sources)
    assert any("zones.yaml" in p and "zones S427002: county_adcode: a catalogue zone's place is inferred"
               in p for p in err.value.problems), err.value.problems
