"""Shared fixtures: one real build of the atlas per test session, the app, a client, real
servers, and the storage backend they serve it from.

The tests are in folders by level (docs/testing.md has the commands): unit/ (no app and no
server: the data, the build, pure functions), web/ (the app through Flask's test client),
backends/ (PostGIS itself, and comparisons of the two backends), e2e/ (real `atlas serve`
processes, headless Chromium, GDAL, OWSLib, LibreOffice).

Which tests run on both storage backends
----------------------------------------
A test runs on the GeoPackage and again on PostGIS when what it asserts comes from the
store: the build's content as served (items, features, counts, extents, metadata and
provenance, documents, search terms, tiles, and the pages, downloads and exports made of
them), the storage report of /healthz, or how the store follows a new build or keeps
serving past a broken one — in a real `atlas serve` too, whose workers each hold their own
connections. The question to ask of a test: would a store that gives a wrong answer (a
feature missing, a wrong count or extent, a tile without its points, the build before the
new one) make it fail? Then it is marked `backends`.

A test runs once, on the GeoPackage, when it has no app (unit/); when it uses the build's
content only to drive something else and asserts that (refused parameters and routes,
escaping, headers and caching, settings echoed back, the page's behaviour in a browser, a
real client's rendering); or when it is about the GeoPackage file or the in-memory
machinery on purpose (it makes its own app on a file it replaces, corrupts or dates).
So in e2e/ the GDAL and OWSLib reads, the reliability tests against a served build, and
the browser tests that count what is drawn (from GeoJSON or from vector tiles) against the
build run on both; the rest of the browser tests once. tests/backends/ compares the two
backends directly and holds the PostGIS-only tests.

How: a test marked `backends` (`@pytest.mark.backends`, or `pytestmark` for a module) must
take the `backend` fixture, directly or through `app`, `client`, `live_server` or a fixture
of its module that does (and passes it to `make_app`, `serving` or `servers`);
`pytest_generate_tests` below parametrizes it with both backends (`--backend NAME` narrows
that to one; `make check` runs the GeoPackage only), so it runs twice, its id ending in
`geopackage]` and in `postgis]`. Any other test that takes those fixtures gets the
GeoPackage, and no id for it. The tests of one module are grouped by backend (the
parameter's scope is the module); what is costly to make — the session's apps and its
real servers (`servers`) — is made once per backend and kept for the session, so changing
backends between modules costs nothing. The PostgreSQL server starts with the first test
that needs PostGIS (or is the one ATLAS_TEST_PG_URL names).
"""

from __future__ import annotations

import contextlib
import os
import shutil
from pathlib import Path

import pytest

from layers.build import build
from layers.sources import DEFAULT_SOURCES, default_seeds_dir
from server import create_app
from tests.support import backends
from tests.support.backends import BACKENDS, GEOPACKAGE

REPO = Path(__file__).resolve().parent.parent


def pytest_addoption(parser):
    parser.addoption("--backend", action="append", choices=BACKENDS, dest="backends", metavar="NAME",
                     help="run the tests marked `backends` on this storage backend only "
                          f"(repeatable; {' or '.join(BACKENDS)}; default: both)")


def pytest_configure(config):
    if os.environ.get("ATLAS_TEST_BACKEND"):
        raise pytest.UsageError("ATLAS_TEST_BACKEND is no longer read: the tests marked `backends` run "
                                "on both backends in one run; `--backend geopackage` narrows them to one")


@pytest.hookimpl(trylast=True)  # after @pytest.mark.parametrize: the backend ends the test id
def pytest_generate_tests(metafunc):
    if metafunc.definition.get_closest_marker("backends") is None:
        return
    if "backend" not in metafunc.fixturenames:
        raise pytest.UsageError(f"{metafunc.definition.nodeid} is marked `backends` but serves no "
                                "build: it takes neither `backend` nor a fixture that does")
    chosen = metafunc.config.getoption("backends") or list(BACKENDS)
    metafunc.parametrize("backend", list(dict.fromkeys(chosen)), indirect=True, scope="module")


@pytest.fixture(scope="session")
def backend(request) -> str:
    """The storage backend the test serves from: each in turn for a test marked `backends`,
    the GeoPackage for any other."""
    return getattr(request, "param", GEOPACKAGE)


def seeds_dir() -> Path:
    """The documents: shipped in the repository, so every checkout has them."""
    seeds = default_seeds_dir()
    assert seeds.is_dir(), f"documents folder {seeds} missing"
    return seeds


@pytest.fixture(scope="session")
def built_atlas(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("build") / "atlas.gpkg"
    build(out, DEFAULT_SOURCES, default_seeds_dir())
    return out


@pytest.fixture(scope="session")
def build_counts(built_atlas) -> dict[str, int]:
    """Feature count of every registered layer, read back from the built file."""
    import pyogrio

    from layers.registry import LAYERS

    return {lid: len(pyogrio.read_dataframe(built_atlas, layer=lid, read_geometry=False))
            for lid in LAYERS}


def make_app(data: Path, backend: str, **config):
    """The app serving the build in `data` on `backend` (tests/support/backends.py)."""
    return create_app({**backends.app_config(data, backend), "TESTING": True, **config})


@pytest.fixture(scope="session", autouse=True)
def _stop_postgres():
    yield
    backends.shutdown()


@pytest.fixture(scope="session")
def per_backend():
    """`per_backend(key, make)`: what `make()` gives, made once per session and key. pytest
    makes the fixtures that take `backend` again whenever the backend changes between
    modules; what they hold that is costly to make (an app that has read a build) is kept
    here, so each backend's is made once."""
    made: dict = {}

    def get(key, make):
        if key not in made:
            made[key] = make()
        return made[key]
    return get


@pytest.fixture(scope="session")
def app(built_atlas, backend, per_backend):
    return per_backend(("app", backend), lambda: make_app(built_atlas, backend))


@pytest.fixture()
def client(app):
    return app.test_client()


def dated_build(built_atlas: Path, path: Path, built_at: str) -> Path:
    """Put at `path` the build saying it was built at `built_at` — a new build to its readers —
    the way `atlas build` does: a complete file renamed into place."""
    import sqlite3

    copy = path.with_name(f".{path.stem}.next.gpkg")
    shutil.copy(built_atlas, copy)
    con = sqlite3.connect(copy)
    con.execute("UPDATE atlas_meta SET value = ? WHERE key = 'built_at'", (f'"{built_at}"',))
    con.commit()
    con.close()
    os.replace(copy, path)
    return path


@pytest.fixture()
def sources_copy(tmp_path) -> Path:
    """A private copy of data/sources to break on purpose."""
    dest = tmp_path / "sources"
    shutil.copytree(DEFAULT_SOURCES, dest)
    return dest


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(data: Path, backend: str, extra_env: dict | None = None):
    """Run `atlas serve` (the production server: gunicorn with 2 workers, or waitress where
    gunicorn is unavailable) for the build in `data` on `backend`, on a free loopback port;
    returns (process, base URL)."""
    import subprocess
    import sys
    import time
    import urllib.request

    port = _free_port()
    env = dict(os.environ, **(extra_env or {}))
    proc = subprocess.Popen(
        [sys.executable, "-m", "server.cli", "serve", *backends.serve_args(data, backend),
         "--port", str(port), "--workers", "2"],
        cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=2) as r:
                if r.status == 200:
                    return proc, base
        except OSError:
            time.sleep(0.2)
        if proc.poll() is not None:
            raise RuntimeError(f"atlas serve exited: {proc.stderr.read().decode()}")
    proc.kill()
    raise RuntimeError("atlas serve did not answer /healthz within 60 s")


def stop_server(proc) -> None:
    proc.terminate()
    proc.wait(timeout=30)  # gunicorn lets workers finish (graceful_timeout 10 s)


@contextlib.contextmanager
def serving(data: Path, backend: str, extra_env: dict | None = None):
    """A server of its own (`start_server`) for the length of a with-block: yields the base
    URL, then stops it. For a test that changes what it serves; others share `servers`."""
    proc, base = start_server(data, backend, extra_env)
    try:
        yield base
    finally:
        stop_server(proc)


class Servers:
    """Real servers (`atlas serve`) kept for the session, one per build, backend and
    environment, so the modules and tests that only read share one whatever order the
    backends come in."""

    def __init__(self) -> None:
        self._running: dict[tuple, tuple] = {}

    def start(self, data: Path, backend: str, extra_env: dict | None = None):
        """(process, base URL) of the server for the build in `data` on `backend`, started
        the first time it is asked for."""
        key = (str(data), backend, tuple(sorted((extra_env or {}).items())))
        if key not in self._running:
            self._running[key] = start_server(data, backend, extra_env)
        return self._running[key]

    def base(self, data: Path, backend: str, extra_env: dict | None = None) -> str:
        return self.start(data, backend, extra_env)[1]

    def stop(self) -> None:
        for proc, _ in self._running.values():  # one at a time: quicker than all at once
            stop_server(proc)
        self._running.clear()


@pytest.fixture(scope="session")
def servers():
    pool = Servers()
    yield pool
    pool.stop()


@pytest.fixture(scope="session")
def live_server(built_atlas, backend, servers):
    """The real server (`atlas serve`) on the session's build; its base URL."""
    return servers.base(built_atlas, backend)


@pytest.fixture(scope="session")
def map_atlas(tmp_path_factory) -> Path:
    """The real sources plus the map tests' fixture records (tests/map_fixtures.py)."""
    from tests.map_fixtures import build_map_fixture

    return build_map_fixture(tmp_path_factory.mktemp("map_atlas"))


SYNTH_POINTS = 2000  # the synthetic enterprises of the session's `atlas synth` file

# Making the synthetic layers (every county-level unit of China, with two simplified tiers)
# costs about 25 s of CPU, a sixth of `make check`'s budget: the tests that need them are
# slow, so the fast tier leaves them out and `make test` runs them.
slow_synth = pytest.mark.slow


@pytest.fixture(scope="session")
def synth_frames() -> dict:
    """The synthetic national layers (layers.synth) at SYNTH_POINTS enterprises."""
    from layers import synth

    return synth.synth_frames(SYNTH_POINTS)


@pytest.fixture(scope="session")
def synth_atlas(tmp_path_factory, synth_frames) -> Path:
    """A file written by `atlas synth` itself (the generation is cached per process)."""
    from server.cli import main as atlas

    out = tmp_path_factory.mktemp("synth") / "synth.gpkg"
    assert atlas(["synth", "--points", str(SYNTH_POINTS), "--out", str(out)]) == 0
    return out


CHROMIUM = os.environ.get("ATLAS_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--disable-quic"]
ARTIFACTS = REPO / "tests" / "artifacts"  # screenshots (git-ignored): look at them after a change


@pytest.fixture(scope="session")
def browser():
    """Debian's headless Chromium, driven by Playwright (no browser download). make test
    installs it; without it the browser tests fail rather than skip."""
    from playwright import sync_api

    assert Path(CHROMIUM).exists(), "chromium not installed: tools/system-deps.sh installs it"
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield b
        b.close()
