"""The PostGIS backend: same build, same answers; atomic switch; bad URLs; read replicas.

These run on a loopback PostgreSQL server (tools/pg_local.py) in both passes of the suite.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request

import psycopg
import pytest
from pandas.testing import assert_frame_equal

from layers.postgis import DatabaseError, load_gpkg
from server import create_app
from server.store import AtlasStore
from server.store.postgis import PostgisStore
from tests.conftest import REPO, dated_build
from tests.support import backends


@pytest.fixture(scope="module")
def pg():
    return backends.postgres()


@pytest.fixture(scope="module")
def db(pg, built_atlas) -> str:
    url = pg.database("t_postgis")
    load_gpkg(built_atlas, url)
    return url


def atlas(*args: str, timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "server.cli", *args], cwd=REPO, text=True,
                          capture_output=True, timeout=timeout)


def current_build(url: str) -> tuple[int, str]:
    with psycopg.connect(url) as con:
        return con.execute("SELECT build_id, schema FROM atlas.current").fetchone()


def test_the_database_gives_back_exactly_the_geopackage_build(db, built_atlas):
    file_snap = AtlasStore(built_atlas).snapshot()
    store = PostgisStore(db, poll_seconds=0)
    try:
        snap = store.snapshot()
    finally:
        store.close()
    assert set(snap.layers) == set(file_snap.layers)
    for name, frame in file_snap.layers.items():
        assert_frame_equal(snap.layers[name], frame, obj=name)
    assert snap.meta == file_snap.meta
    assert snap.documents == file_snap.documents
    assert snap.search == file_snap.search


SAME = ["/api/collections", "/api/collections/parks/items?limit=7&offset=3",
        "/api/collections/projects/items?bbox=113.5,29.8,115,31&limit=50",
        "/api/collections/counties/items?parent_adcode=421200",
        "/api/collections/clusters/items/c000-han-xiao-sui-xiang-shi-auto-corridor",
        "/download/parks.csv", "/map/geometry/cities/lo.json", "/documents/000?line=279"]


@pytest.mark.parametrize("url", SAME)
def test_both_backends_answer_the_same_bytes(db, built_atlas, url):
    on_file = create_app({"DATA": str(built_atlas), "TESTING": True}).test_client().get(url)
    on_db = create_app({"DB": db, "TESTING": True}).test_client().get(url)
    assert on_file.status_code == on_db.status_code
    assert on_db.data == on_file.data


def test_healthz_names_the_backend(db):
    doc = create_app({"DB": db, "TESTING": True}).test_client().get("/healthz").get_json()
    assert doc["status"] == "ok"
    assert doc["storage"]["backend"] == "postgis"
    assert doc["storage"]["servers"] == [{"url": db, "role": "primary", "status": "ok"}]


def test_an_interrupted_load_leaves_the_current_build_serving(pg, built_atlas):
    url = pg.database("t_interrupted")
    first = load_gpkg(built_atlas, url)
    client = create_app({"DB": url, "TESTING": True, "DB_POLL_SECONDS": 0}).test_client()
    before = client.get("/api/collections/parks/items?limit=3").data
    with pytest.raises(DatabaseError, match="interrupted after parks"):
        load_gpkg(built_atlas, url, fail_after="parks")
    assert current_build(url) == (first.build_id, first.schema)
    assert client.get("/api/collections/parks/items?limit=3").data == before
    with psycopg.connect(url) as con:  # nothing of the half build is visible
        schemas = {s for (s,) in con.execute(
            "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'atlas_b%'")}
        statuses = dict(con.execute("SELECT schema, status FROM atlas.builds").fetchall())
    assert schemas == {first.schema}
    second = load_gpkg(built_atlas, url)  # the next load clears the failed one's row
    with psycopg.connect(url) as con:
        statuses = dict(con.execute("SELECT schema, status FROM atlas.builds").fetchall())
    assert statuses == {first.schema: "ready", second.schema: "ready"}
    third = load_gpkg(built_atlas, url)  # the build before the current is kept, older dropped
    with psycopg.connect(url) as con:
        kept = {s for (s,) in con.execute(
            "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'atlas_b%'")}
    assert kept == {second.schema, third.schema}


def test_a_new_build_switches_readers_at_once(pg, built_atlas, tmp_path):

    url = pg.database("t_switch")
    load_gpkg(built_atlas, url)
    client = create_app({"DB": url, "TESTING": True, "DB_POLL_SECONDS": 0}).test_client()
    old = client.get("/healthz").get_json()["built_at"]
    load_gpkg(dated_build(built_atlas, tmp_path / "newer.gpkg", "2099-01-01T00:00:00Z"), url)
    assert old != "2099-01-01T00:00:00Z"
    assert client.get("/healthz").get_json()["built_at"] == "2099-01-01T00:00:00Z"
    assert client.get("/api/collections/cities/items?limit=1").headers["X-Atlas-Built-At"] == \
        "2099-01-01T00:00:00Z"


def test_atlas_build_into_the_database(pg):
    url = pg.database("t_cli_build")
    result = atlas("build", "--db", url)
    assert result.returncode == 0, result.stderr
    assert "parks" in result.stdout
    assert current_build(url)[1].startswith("atlas_b")


@pytest.mark.parametrize("url, needle", [
    ("postgresql://atlas@127.0.0.1:1/atlas", "cannot connect to postgresql://atlas@127.0.0.1:1/atlas"),
    ("postgresql://atlas:secret@127.0.0.1:{port}/no_such_db", 'database "no_such_db" does not exist'),
    ("postgresql://atlas@127.0.0.1:{port}/atlas?sslmode=bogus", "cannot connect"),
])
def test_a_bad_db_url_is_one_line_and_nothing_changes(pg, db, url, needle):
    url = url.format(port=pg.port)
    before = current_build(db)
    for command in (["build", "--db", url], ["serve", "--db", url, "--port", "1"]):
        result = atlas(*command, timeout=120)
        assert result.returncode == 1, result.stderr
        assert "Traceback" not in result.stderr
        errors = [ln for ln in result.stderr.splitlines() if ln.startswith(f"atlas {command[0]}: error:")]
        assert len(errors) == 1 and needle in errors[0], result.stderr
        assert "secret" not in result.stderr  # passwords are never printed
    assert current_build(db) == before


def test_a_database_without_postgis_is_one_line(pg):
    with psycopg.connect(pg.url, autocommit=True) as con:
        con.execute("DROP DATABASE IF EXISTS t_plain WITH (FORCE)")
        con.execute("DROP ROLE IF EXISTS plain")
        con.execute("CREATE ROLE plain LOGIN")
        con.execute("CREATE DATABASE t_plain OWNER plain")
    url = f"postgresql://plain@127.0.0.1:{pg.port}/t_plain"
    result = atlas("build", "--db", url)
    assert result.returncode == 1
    errors = [ln for ln in result.stderr.splitlines() if ln.startswith("atlas build: error:")]
    assert len(errors) == 1 and "has no PostGIS" in errors[0], result.stderr
    served = atlas("serve", "--db", url, "--port", "1")
    assert served.returncode == 1 and "holds no atlas build" in served.stderr


def test_serve_and_export_from_the_database(db, tmp_path):
    result = atlas("export", "--per", "cluster", "--format", "svg", "--out", str(tmp_path), "--db", db)
    assert result.returncode == 0, result.stderr
    assert len(list(tmp_path.glob("*.svg"))) >= 5
    assert (tmp_path / "index.csv").exists()


# Read replicas: a primary and a streaming replica made with pg_basebackup, on loopback.

@pytest.fixture(scope="module")
def replicated(pg, built_atlas):
    import pg_local

    url = pg.database("t_replicated")
    load_gpkg(built_atlas, url)
    replica_dir = pg.root / "replica"
    replica_base = pg_local.replica(pg.port, replica_dir)
    replica = replica_base.rsplit("/", 1)[0] + "/" + url.rsplit("/", 1)[1]
    yield url, replica, replica_dir
    pg_local.remove(replica_dir)


def _wait(predicate, seconds: float = 30) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def _get(base: str, path: str) -> dict:
    with urllib.request.urlopen(base + path, timeout=10) as r:
        return json.load(r)


def test_reads_go_to_the_replica_and_survive_its_loss(replicated, built_atlas, tmp_path):

    import pg_local

    primary, replica, replica_dir = replicated
    with psycopg.connect(replica) as con:
        assert con.execute("SELECT pg_is_in_recovery()").fetchone()[0]
    proc_env = {"ATLAS_DB_POLL_SECONDS": "0.2"}
    with serving_db(primary, [replica], proc_env) as base:
        health = _get(base, "/healthz")
        assert [s["role"] for s in health["storage"]["servers"]] == ["primary", "replica"]
        assert health["status"] == "ok"
        # a new build, loaded on the primary, becomes visible through the replica
        load_gpkg(dated_build(built_atlas, tmp_path / "newer.gpkg", "2099-02-02T00:00:00Z"), primary)
        assert _wait(lambda: current_build(replica) == current_build(primary))
        assert _wait(lambda: _get(base, "/healthz")["built_at"] == "2099-02-02T00:00:00Z")
        # the replica stops: the server keeps answering from the primary and says so
        pg_local.stop(replica_dir)
        for _ in range(10):
            doc = _get(base, "/api/collections/parks/items?limit=2")
            assert doc["numberReturned"] == 2
        health = _get(base, "/healthz")
        assert health["status"] == "degraded"
        replica_state = health["storage"]["servers"][1]
        assert replica_state["role"] == "replica" and replica_state["status"] == "down"
        assert health["storage"]["servers"][0]["status"] == "ok"


def serving_db(primary: str, replicas: list[str], env: dict):
    """`atlas serve --db … --db-replica …` for a with-block; yields the base URL."""
    import contextlib
    import os

    from tests.conftest import _free_port

    @contextlib.contextmanager
    def run():
        port = _free_port()
        args = [sys.executable, "-m", "server.cli", "serve", "--db", primary, "--port", str(port),
                "--workers", "2"]
        for r in replicas:
            args += ["--db-replica", r]
        proc = subprocess.Popen(args, cwd=REPO, env=dict(os.environ, **env),
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        base = f"http://127.0.0.1:{port}"
        try:
            ok = _wait(lambda: _healthy(base), 60)
            assert ok, proc.stderr.read().decode() if proc.poll() is not None else "no answer"
            yield base
        finally:
            proc.terminate()
            proc.wait(timeout=15)
    return run()


def _healthy(base: str) -> bool:
    try:
        return _get(base, "/healthz")["status"] in ("ok", "degraded")
    except OSError:
        return False


# Vector tiles: ST_AsMVT on PostGIS, the in-process encoder on the GeoPackage — the same
# features, attributes and ids, and geometry within the tile grid's rounding.

TILE_LAYERS = ["provinces", "cities", "counties", "clusters", "cluster_lines", "parks", "projects"]


def _tiles_over_hubei(z: int) -> list[tuple[int, int]]:
    from server.store import mvt

    x0, y0, x1, y1 = mvt.tile_range(z, (108.3, 29.0, 116.2, 33.3))
    step = max(1, (x1 - x0) // 3)
    return [(x, y) for x in range(x0, x1 + 1, step) for y in range(y0, y1 + 1, step)]


def _same_but_specks(fa: list[dict], fb: list[dict], url: str) -> tuple[list, list]:
    """The features both tiles hold. Only a polygon drawn smaller than 4 pixels (1,024 tile
    units²: a tiny county, or a big one's sliver at the tile's edge) may be in one and not the
    other: the two encoders snap such specks to the grid differently (the in-process one drops
    what collapses, ST_AsMVTGeom may keep a dot)."""
    import shapely.geometry

    ia, ib = [f["properties"]["id"] for f in fa], [f["properties"]["id"] for f in fb]
    for f in fa + fb:
        if (f["properties"]["id"] in ia) != (f["properties"]["id"] in ib):
            assert "Polygon" in f["geometry"]["type"], (url, f["properties"])
            assert shapely.geometry.shape(f["geometry"]).area < 1024, (url, f["properties"])
    both = set(ia) & set(ib)
    return ([f for f in fa if f["properties"]["id"] in both],
            [f for f in fb if f["properties"]["id"] in both])


def _bounds(geometry: dict) -> tuple[float, float, float, float]:
    import shapely.geometry

    return shapely.geometry.shape(geometry).bounds


@pytest.mark.parametrize("z", [5, 8, 11])
def test_postgis_tiles_carry_what_the_in_process_encoder_does(db, built_atlas, z):
    import mapbox_vector_tile

    on_file = create_app({"DATA": str(built_atlas), "TESTING": True}).test_client()
    on_db = create_app({"DB": db, "TESTING": True}).test_client()
    compared = 0
    for layer in TILE_LAYERS:
        for x, y in _tiles_over_hubei(z):
            url = f"/tiles/{layer}/{z}/{x}/{y}.mvt"
            a, b = on_file.get(url), on_db.get(url)
            assert a.status_code == b.status_code == 200, url
            fa = mapbox_vector_tile.decode(a.data).get(layer, {}).get("features", [])
            fb = mapbox_vector_tile.decode(b.data).get(layer, {}).get("features", [])
            assert [f["properties"] for f in fa] == [f["properties"] for f in fb], url
            assert [f["id"] for f in fa] == [f["id"] for f in fb], url
            for pa, pb in zip(fa, fb):
                assert pa["geometry"]["type"].replace("Multi", "") == \
                    pb["geometry"]["type"].replace("Multi", ""), url
                # both snap to the 4096-unit grid; PostGIS also simplifies what it snapped, so
                # extents agree to half a pixel of a 256-pixel tile (8 units), points exactly
                ba, bb = _bounds(pa["geometry"]), _bounds(pb["geometry"])
                limit = 0 if pa["geometry"]["type"] == "Point" else 8
                assert max(abs(u - v) for u, v in zip(ba, bb)) <= limit, (url, ba, bb)
            compared += len(fa)
    assert compared >= 20  # features compared (zoom 11 samples hold the fewest)


# The synthetic national layers stay in the database on PostGIS (server.pgitems answers
# their items, server.pgtiles their tiles); the answers are those of the in-memory path.

@pytest.fixture(scope="module")
def synth_pair(pg, tmp_path_factory):
    from server.cli import main as atlas_main

    out = tmp_path_factory.mktemp("synth-pg") / "synth.gpkg"
    assert atlas_main(["synth", "--points", "3000", "--out", str(out)]) == 0
    url = pg.database("t_synth")
    load_gpkg(out, url)
    on_file = create_app({"DATA": str(out), "TESTING": True}).test_client()
    on_db = create_app({"DB": url, "TESTING": True}).test_client()
    return on_file, on_db


SYNTH_URLS = [
    "/api/collections/synth_enterprises/items?limit=20",
    "/api/collections/synth_enterprises/items?limit=50&offset=2990",
    "/api/collections/synth_enterprises/items?bbox=113,29,116,32&limit=100",
    "/api/collections/synth_enterprises/items?bbox=179,-10,-179,60",  # across the antimeridian
    "/api/collections/synth_enterprises/items?sector=auto,biomed&size=large&limit=30",
    "/api/collections/synth_enterprises/items?province_adcode=420000&limit=1000",
    "/api/collections/synth_zones/items?sectors=auto&limit=40",
    "/api/collections/synth_zones/items?level=national&bbox=100,20,125,45&offset=10&limit=5",
    "/api/collections/synth_counties/items?province_adcode=420000&limit=3",
    "/api/collections/synth_zones/items/SZ0007",
    "/api/collections/synth_enterprises/items/no-such-id",
    "/api/collections/synth_enterprises/items/SE%00",
]
# `q` and filters as a user types them: the two backends must find the same features —
# pinyin and initials, several words, upper case, LIKE's wildcards as plain characters, a
# NUL byte, a layer without names
SEARCHES = ["合成开发区 7", "synthetic zone 12", "SYNTHETIC", "hechengkaifaqu", "hckfq", "%", "_",
            "%25", "7%", "%5C", "a%5Cb", "%5C%25", "%00", "a%00b", "no-such-word"]
SYNTH_URLS += [f"/api/collections/{lid}/items?q={q}&limit=50"
               for q in SEARCHES for lid in ("synth_zones", "synth_counties", "synth_enterprises")]
SYNTH_URLS += ["/api/collections/synth_enterprises/items?sector=auto%00&limit=5",
               "/api/collections/synth_zones/items?level=national%00,provincial&limit=5",
               "/api/collections/synth_counties/items?q=hubei&bbox=113,29,116,32&limit=20"]


@pytest.mark.parametrize("url", SYNTH_URLS)
def test_large_layers_on_postgis_answer_as_in_memory(synth_pair, url):
    on_file, on_db = synth_pair
    a, b = on_file.get(url), on_db.get(url)
    assert a.status_code == b.status_code, (url, b.get_json())
    da, db_ = a.get_json(), b.get_json()
    if a.status_code != 200:
        return
    for doc in (da, db_):
        doc.pop("links", None)
    assert da == db_


@pytest.mark.parametrize("q, found", [("hechengkaifaqu", True), ("hckfq", True), ("合成开发区 7", True),
                                      ("%", False), ("_", False)])
def test_q_finds_the_same_on_both_backends_and_not_nothing(synth_pair, q, found):
    """Pinyin and initials find the synthetic zones on PostGIS too (it once matched names by
    ILIKE only, and `%` or `_` found everything there, nothing in memory)."""
    counts = [c.get(f"/api/collections/synth_zones/items?q={q}&limit=1").get_json()["numberMatched"]
              for c in synth_pair]
    assert counts[0] == counts[1] and (counts[0] > 0) == found, counts


def test_large_layers_are_collections_on_postgis_with_count_and_extent(synth_pair):
    on_file, on_db = synth_pair
    fa = {c["id"]: c for c in on_file.get("/api/collections").get_json()["collections"]}
    fb = {c["id"]: c for c in on_db.get("/api/collections").get_json()["collections"]}
    assert fa.keys() == fb.keys() and "synth_enterprises" in fb
    for lid in ("synth_counties", "synth_zones", "synth_enterprises"):
        assert fb[lid]["synthetic"] is True
        assert fb[lid]["numberOfFeatures"] == fa[lid]["numberOfFeatures"]
        assert fb[lid]["extent"]["spatial"]["bbox"][0] == pytest.approx(
            fa[lid]["extent"]["spatial"]["bbox"][0], abs=1e-6)


@pytest.mark.parametrize("z", [4, 8, 12])
def test_large_layer_tiles_on_postgis_carry_what_memory_does(synth_pair, z):
    import mapbox_vector_tile

    from server.store import mvt

    on_file, on_db = synth_pair
    x0, y0, x1, y1 = mvt.tile_range(z, (110.0, 28.0, 118.0, 34.0))
    step = max(1, (x1 - x0) // 3)
    compared = 0
    for layer in ("synth_enterprises", "synth_zones", "synth_counties"):
        for x in range(x0, x1 + 1, step):
            for y in range(y0, y1 + 1, step):
                url = f"/tiles/{layer}/{z}/{x}/{y}.mvt"
                a, b = on_file.get(url), on_db.get(url)
                assert a.status_code == b.status_code == 200, url
                fa = mapbox_vector_tile.decode(a.data).get(layer, {}).get("features", [])
                fb = mapbox_vector_tile.decode(b.data).get(layer, {}).get("features", [])
                fa, fb = _same_but_specks(fa, fb, url)
                assert [f["properties"] for f in fa] == [f["properties"] for f in fb], url
                for pa, pb in zip(fa, fb):
                    if pa["geometry"]["type"] == "Point":
                        assert pa["geometry"]["coordinates"] == pb["geometry"]["coordinates"], url
                compared += len(fa)
    assert compared > 0


def test_a_replica_that_has_not_replayed_the_build_yet_is_passed_over(pg, built_atlas):
    """The build in use is known from the primary (the replica was away a moment); the
    replica, behind, lacks its schema: reads fall through to the primary, nothing fails."""
    primary, behind = pg.database("t_lag_primary"), pg.database("t_lag_replica")
    for _ in range(3):
        current = load_gpkg(built_atlas, primary)
    load_gpkg(built_atlas, behind)
    assert current.schema != current_build(behind)[1]
    store = PostgisStore(primary, [behind], poll_seconds=0)
    try:
        store.replicas[0].down_until = time.monotonic() + 60
        assert store.snapshot().stamp == (current.build_id, current.schema)
        store.replicas[0].down_until = 0.0  # back, but behind
        assert len(store.tile("parks", 7, 104, 52)) > 1000
        assert store.replicas[0].error is None  # behind is not down
    finally:
        store.close()
