"""The two storage backends a test can serve a build from, and the PostgreSQL server that
PostGIS needs.

Every helper takes the backend by name (`GEOPACKAGE` or `POSTGIS`), which a test gets from
the `backend` fixture (tests/conftest.py). On the GeoPackage the built file is served
itself. On PostGIS each built GeoPackage a test serves is loaded into a database of its own
(`layers.postgis.load_gpkg`, the same path `atlas build --db` takes) on one loopback server
for the session: started by tools/pg_local.py the first time a PostGIS test needs it (a run
with no such test never starts one), or the one ATLAS_TEST_PG_URL names (`.ci/run` starts
it before the tests).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
import tempfile
import threading
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(REPO / "tools"))

import pg_local  # noqa: E402

GEOPACKAGE, POSTGIS = "geopackage", "postgis"
BACKENDS = (GEOPACKAGE, POSTGIS)


def _known(backend: str) -> str:
    assert backend in BACKENDS, f"backend {backend!r}: one of {', '.join(BACKENDS)}"
    return backend


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
        """A new (emptied) database with PostGIS; its URL. Named for the test process too:
        under pytest-xdist the workers may share one server (ATLAS_TEST_PG_URL)."""
        import psycopg

        name = f"{name}_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"

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
    """The session's server, started on first use."""
    global _server
    if _server is None:
        _server = Postgres()
    return _server


def shutdown() -> None:
    if _server is not None:
        _server.close()


def app_config(data: Path, backend: str) -> dict:
    """What create_app needs to serve the build in `data` on `backend`."""
    if _known(backend) == POSTGIS:
        return {"DATA": str(data), "DB": postgres().mirror(Path(data)), "DB_POLL_SECONDS": 0}
    return {"DATA": str(data)}


def serve_args(data: Path, backend: str) -> list[str]:
    """`atlas serve` arguments for the build in `data` on `backend`."""
    if _known(backend) == POSTGIS:
        return ["--db", postgres().mirror(Path(data))]
    return ["--data", str(data)]


def build_args(data: Path, backend: str) -> list[str]:
    """`atlas build` arguments that replace the build served from `data` on `backend`."""
    if _known(backend) == POSTGIS:
        return ["--db", postgres().mirror(Path(data))]
    return ["--out", str(data)]


def served_built_at(data: Path, backend: str) -> str:
    """The build time of what is now in place for `data` on `backend` (the file, or its
    database)."""
    if _known(backend) == POSTGIS:
        from server.store.postgis import PostgisStore

        store = PostgisStore(postgres().mirror(Path(data)), poll_seconds=0)
        try:
            return store.meta["built_at"]
        finally:
            store.close()
    from server.store import read_meta

    return read_meta(Path(data))["built_at"]
