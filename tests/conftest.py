"""Shared fixtures: one real build of the atlas per test session, the app and a client."""

from __future__ import annotations

import contextlib
import os
import shutil
from pathlib import Path

import pytest

from layers.build import build
from layers.sources import DEFAULT_SOURCES, default_seeds_dir
from server import create_app
from tests import backends

REPO = Path(__file__).resolve().parent.parent


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


def make_app(data: Path, **config):
    """The app serving the build in `data` on this pass's backend (tests/backends.py)."""
    return create_app({**backends.app_config(data), "TESTING": True, **config})


@pytest.fixture(scope="session", autouse=True)
def _stop_postgres():
    yield
    backends.shutdown()


@pytest.fixture(scope="session")
def app(built_atlas):
    return make_app(built_atlas)


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


def start_server(data: Path, extra_env: dict | None = None):
    """Run `atlas serve` (the production server: gunicorn with 2 workers, or waitress where
    gunicorn is unavailable) on a free loopback port; returns (process, base URL)."""
    import subprocess
    import sys
    import time
    import urllib.request

    port = _free_port()
    env = dict(os.environ, **(extra_env or {}))
    proc = subprocess.Popen(
        [sys.executable, "-m", "server.cli", "serve", *backends.serve_args(data), "--port", str(port),
         "--workers", "2"],
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


@contextlib.contextmanager
def serving(data: Path, extra_env: dict | None = None):
    """`start_server` for the length of a with-block: yields the base URL, then stops it."""
    proc, base = start_server(data, extra_env)
    try:
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=30)  # gunicorn lets workers finish (graceful_timeout 10 s)


@pytest.fixture(scope="session")
def live_server(built_atlas):
    """The real server (`atlas serve`) on the session's build; yields its base URL."""
    with serving(built_atlas) as base:
        yield base


@pytest.fixture(scope="session")
def map_atlas(tmp_path_factory) -> Path:
    """The real sources plus the map tests' fixture records (tests/map_fixtures.py)."""
    from tests.map_fixtures import build_map_fixture

    return build_map_fixture(tmp_path_factory.mktemp("map_atlas"))


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
