"""Which storage backend the suite runs on, and the PostgreSQL server it needs.

`ATLAS_TEST_BACKEND=postgis` (set by `make test` for its second pass) runs every test that
serves a build on PostGIS: each built GeoPackage a test serves is loaded into a database
of its own (`layers.postgis.load_gpkg`, the same path `atlas build --db` takes) on a
loopback server started for the session by tools/pg_local.py. The default is the
embedded GeoPackage. Tests about the GeoPackage file itself (a replaced or corrupt file)
name it and run on it in both passes.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
import tempfile
import threading
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tools"))

import pg_local  # noqa: E402

BACKEND = os.environ.get("ATLAS_TEST_BACKEND", "geopackage")
assert BACKEND in ("geopackage", "postgis"), f"ATLAS_TEST_BACKEND={BACKEND}: geopackage or postgis"


class Postgres:
    """One loopback server for the session; databases are made on demand. `.ci/run` starts
    one before the tests and names it in ATLAS_TEST_PG_URL; otherwise the session starts its
    own (and stops it at the end)."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="atlas-pg-"))
        self.root.chmod(0o755)  # the server runs as `postgres` when the tests run as root
        self.data: Path | None = None
        given = os.environ.get("ATLAS_TEST_PG_URL")
        if given:
            self.url = given
        else:
            self.data = self.root / "primary"
            self.url = pg_local.start(self.data)
        self.port = int(self.url.rsplit(":", 1)[1].split("/")[0])
        self._loaded: dict[tuple[str, float], str] = {}
        self._lock = threading.Lock()

    def database(self, name: str) -> str:
        """A new (emptied) database with PostGIS; its URL."""
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as con:
            con.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            con.execute(f"CREATE DATABASE {name}")
        url = self.url.rsplit("/", 1)[0] + f"/{name}"
        with psycopg.connect(url, autocommit=True) as con:
            con.execute("CREATE EXTENSION postgis")
        return url

    def mirror(self, gpkg: Path) -> str:
        """The URL of a database whose current build is `gpkg` (loaded once per file)."""
        from layers.postgis import load_gpkg

        key = (str(gpkg.resolve()), gpkg.stat().st_mtime)
        with self._lock:
            if key not in self._loaded:
                name = "t_" + hashlib.sha1(repr(key).encode()).hexdigest()[:12]
                url = self.database(name)
                load_gpkg(gpkg, url)
                self._loaded[key] = url
            return self._loaded[key]

    def close(self) -> None:
        if self.data is not None:
            pg_local.remove(self.data)
        for path in self.root.glob("*"):  # replicas the tests made
            pg_local.remove(path)
        shutil.rmtree(self.root, ignore_errors=True)


_server: Postgres | None = None


def postgres() -> Postgres:
    global _server
    if _server is None:
        _server = Postgres()
    return _server


def shutdown() -> None:
    if _server is not None:
        _server.close()


def app_config(data: Path) -> dict:
    """What create_app needs to serve the build in `data` on this pass's backend."""
    if BACKEND == "postgis":
        return {"DATA": str(data), "DB": postgres().mirror(Path(data)), "DB_POLL_SECONDS": 0}
    return {"DATA": str(data)}


def serve_args(data: Path) -> list[str]:
    """`atlas serve` arguments for the build in `data` on this pass's backend."""
    if BACKEND == "postgis":
        return ["--db", postgres().mirror(Path(data))]
    return ["--data", str(data)]


def build_args(data: Path) -> list[str]:
    """`atlas build` arguments that replace the build served from `data` on this pass."""
    if BACKEND == "postgis":
        return ["--db", postgres().mirror(Path(data))]
    return ["--out", str(data)]


def served_built_at(data: Path) -> str:
    """The build time of what is now in place for `data` (the file, or its database)."""
    if BACKEND == "postgis":
        from server.store.postgis import PostgisStore

        store = PostgisStore(postgres().mirror(Path(data)), poll_seconds=0)
        try:
            return store.meta["built_at"]
        finally:
            store.close()
    from server.store import read_meta

    return read_meta(Path(data))["built_at"]
