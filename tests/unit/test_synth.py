"""`atlas synth`: the synthetic national layers — deterministic, where they say they are, kept
out of the real atlas's file — and the point encoder of their tiles (`mvtpoints`), without
an app. tests/web/test_synth.py serves them: the large-layer path of the API and the tiles.

Small N (2,000 points) throughout; `bench/scale.py` measures 10k–1M.
"""

from __future__ import annotations

import mapbox_vector_tile
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely

from geo.boundaries import national_counties
from layers import synth
from layers.build import build
from layers.registry import LAYERS, SYNTH_LAYERS
from layers.sources import DEFAULT_SOURCES
from server.cli import main as atlas
from server.store import AtlasStore, mvtpoints, read_meta
from tests.conftest import SYNTH_POINTS as POINTS
from tests.conftest import slow_synth


@pytest.fixture(scope="session")
def frames(synth_frames) -> dict:
    return synth_frames


def same_frames(a: dict, b: dict) -> bool:
    if a.keys() != b.keys():
        return False
    for name in a:
        x, y = a[name], b[name]
        if list(x.columns) != list(y.columns) or len(x) != len(y):
            return False
        if not shapely.equals_exact(x.geometry.values, y.geometry.values, 0).all():
            return False
        left, right = pd.DataFrame(x.drop(columns="geometry")), pd.DataFrame(y.drop(columns="geometry"))
        if not left.astype(str).equals(right.astype(str)):
            return False
    return True


# ---------------------------------------------------------------------------------------------
# The generator


@slow_synth
def test_same_seed_and_count_give_identical_frames_and_another_seed_does_not(frames):
    again = synth.synth_frames(POINTS)
    assert same_frames(frames, again)
    other = synth.synth_frames(POINTS, seed=7)
    assert not same_frames(frames, other)
    def outlines(f: dict) -> dict:
        return {k: v.drop(columns=["n_zones", "n_enterprises"]) for k, v in f.items()
                if k.startswith("synth_counties")}

    assert same_frames(outlines(frames), outlines(other)), "the outlines do not depend on the seed"


@slow_synth
def test_counts_and_fields(frames):
    counties, zones, ents = frames["synth_counties"], frames["synth_zones"], frames["synth_enterprises"]
    assert len(counties) == len(national_counties()) > 2800  # every county-level unit of China
    assert counties.adcode.is_unique
    assert len(zones) == synth.ZONES == 2543
    assert (zones.level == "national").sum() == 552 and (zones.level == "provincial").sum() == 1991
    assert len(ents) == POINTS and ents.id.is_unique and zones.id.is_unique
    assert ents.id.iloc[0] == "SE0000001" and zones.name_zh.iloc[0] == "合成开发区 0001"
    assert zones.name_en.iloc[0] == "Synthetic zone 0001"
    for name, frame in frames.items():
        layer = SYNTH_LAYERS[name.split("__")[0]]
        assert list(frame.columns) == layer.field_names + ["geometry"], name
        assert frame.crs.to_epsg() == 4326 and frame.synthetic.all()
    for tier in ("mid", "lo"):
        coarse = frames[f"synth_counties__{tier}"]
        assert coarse.adcode.tolist() == counties.adcode.tolist()
        assert shapely.is_valid(coarse.geometry.values).all()
        assert (shapely.get_num_coordinates(coarse.geometry.values).sum()
                < shapely.get_num_coordinates(counties.geometry.values).sum())
    assert counties.n_enterprises.sum() == POINTS and counties.n_zones.sum() == synth.ZONES
    assert zones.n_enterprises.sum() == ents.zone.notna().sum() == round(POINTS * synth.ZONE_SHARE)
    assert set(ents["size"]) <= {"micro", "small", "medium", "large"}


@slow_synth
def test_sectors_are_the_canonical_codes(frames):
    codes = set(synth.sector_codes())
    assert len(codes) >= 20
    zones, ents = frames["synth_zones"], frames["synth_enterprises"]
    assert set(ents.sector) <= codes
    for sectors in zones.sectors:
        assert 1 <= len(sectors) <= 3 and len(set(sectors)) == len(sectors) and set(sectors) <= codes
    in_zone = ents[ents.zone.notna()].merge(zones[["id", "sectors"]], left_on="zone", right_on="id")
    assert all(s in z for s, z in zip(in_zone.sector, in_zone.sectors))


@slow_synth
def test_every_point_lies_inside_its_county(frames):
    counties = frames["synth_counties"].set_index("adcode")
    for name in ("synth_zones", "synth_enterprises"):
        frame = frames[name]
        for adcode, group in frame.groupby("county_adcode"):
            unit = counties.loc[adcode]
            assert shapely.contains_xy(unit.geometry, group.geometry.x.values, group.geometry.y.values).all()
            assert (group.city_adcode == unit.city_adcode).all()
            assert (group.province_adcode == unit.province_adcode).all()
        coords = shapely.get_coordinates(frame.geometry.values)
        assert np.array_equal(np.round(coords, 6), coords)  # the API's precision


@slow_synth
def test_the_counties_cover_china_and_keep_hubei(frames):
    counties = frames["synth_counties"]
    minx, miny, maxx, maxy = counties.total_bounds
    assert minx < 74 and maxx > 134 and miny < 19 and maxy > 53
    hubei = counties[counties.province_adcode == 420000]
    assert len(hubei) == 103 and 420106 in set(hubei.adcode)  # 武昌区
    assert shapely.is_valid(counties.geometry.values).all()


# ---------------------------------------------------------------------------------------------
# Writing


@slow_synth
def test_the_synth_file_is_a_whole_atlas_with_the_synthetic_tables_and_their_meta(synth_atlas, frames):
    tables = set(pyogrio.list_layers(synth_atlas)[:, 0])
    assert set(LAYERS) <= tables
    assert set(frames) <= tables
    meta = read_meta(synth_atlas)
    info = meta["synthetic"]
    assert info["synthetic"] is True and info["seed"] == synth.SEED and info["points"] == POINTS
    assert info["generator"] == synth.GENERATOR
    assert info["counts"] == {"synth_counties": len(frames["synth_counties"]), "synth_zones": 2543,
                              "synth_enterprises": POINTS}
    assert "synthetic" not in meta["counts"] and not any(k.startswith("synth") for k in meta["counts"])


def test_a_normal_build_has_no_synthetic_table(built_atlas):
    tables = set(pyogrio.list_layers(built_atlas)[:, 0])
    assert not any(t.startswith("synth") for t in tables)
    assert "synthetic" not in read_meta(built_atlas)
    assert AtlasStore(built_atlas).synthetic_ids() == []


@slow_synth
def test_extra_tables_must_be_synthetic_layers(tmp_path, frames):
    with pytest.raises(ValueError, match="not synthetic layers"):
        build(tmp_path / "x.gpkg", DEFAULT_SOURCES, extra={"parks": frames["synth_zones"]})
    assert not (tmp_path / "x.gpkg").exists()


def test_synth_refuses_to_write_over_the_atlas(capsys):
    from layers.build import DEFAULT_OUT

    assert atlas(["synth", "--points", "10", "--out", str(DEFAULT_OUT)]) == 1
    assert "real atlas" in capsys.readouterr().err


# ---------------------------------------------------------------------------------------------
# The point encoder


def test_the_point_encoder_writes_what_mapbox_vector_tile_reads():
    xy = np.array([[0, 0], [4096, 4096], [-64, 100], [2048, 17], [70000, -70000]])
    attrs = [{"id": "a", "n": 3, "neg": -5, "f": 1.5, "b": True, "none": None},
             {"id": "b", "n": 3, "b": False, "neg": -(2 ** 40)}, {"id": "c"}, {"id": "d", "n": 2 ** 40},
             {"id": "中文", "f": float("nan"), "n": 0}]
    names = ["id", "n", "neg", "f", "b", "none"]
    columns = [(k, np.array([a.get(k) for a in attrs], dtype=object), lambda v: v) for k in names]
    body = mvtpoints.encode_points("pts", xy, columns, np.array([1, -1, 7, 2 ** 33, 300]), 4096)
    layer = mapbox_vector_tile.decode(body, default_options={"y_coord_down": True})["pts"]
    assert layer["extent"] == 4096 and layer["version"] == 2
    feats = layer["features"]
    assert [f["geometry"] for f in feats] == [{"type": "Point", "coordinates": list(p)} for p in xy.tolist()]
    want = [{k: v for k, v in a.items() if v is not None and v == v} for a in attrs]  # NaN left out
    assert [f["properties"] for f in feats] == want
    assert [f.get("id") for f in feats] == [1, 0, 7, 2 ** 33, 300]  # no id decodes as protobuf's 0
    both = mvtpoints.encode_points("one", xy[:1], [(k, v[:1], f) for k, v, f in columns], None, 4096) + body
    assert set(mapbox_vector_tile.decode(both)) == {"one", "pts"}  # Tile messages concatenate
    assert mvtpoints.varints(np.array([[0, 127, 128, 300, 2 ** 63]]), np.array([[True] * 5])) == \
        bytes([0, 127, 0x80, 1, 0xAC, 2]) + bytes([0x80] * 9 + [1])
