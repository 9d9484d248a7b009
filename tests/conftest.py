"""Shared fixtures: one real build of the atlas per test session, the app and a client."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from layers.build import build
from layers.sources import DEFAULT_SOURCES, default_seeds_dir
from server import create_app

REPO = Path(__file__).resolve().parent.parent


def seeds_dir_or_skip() -> Path:
    """The seed texts. CI always has them beside the checkout: there their absence fails."""
    seeds = default_seeds_dir()
    if seeds is None or not seeds.is_dir():
        if os.environ.get("CI"):
            pytest.fail("seed texts not found: set ATLAS_SEEDS or put shared/seeds beside the repo")
        pytest.skip("seed texts not available (set ATLAS_SEEDS)")
    return seeds


@pytest.fixture(scope="session")
def built_atlas(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("build") / "atlas.gpkg"
    build(out, DEFAULT_SOURCES, default_seeds_dir())
    return out


@pytest.fixture(scope="session")
def app(built_atlas):
    return create_app({"DATA": str(built_atlas), "TESTING": True})


@pytest.fixture()
def client(app):
    return app.test_client()


@pytest.fixture()
def sources_copy(tmp_path) -> Path:
    """A private copy of data/sources to break on purpose."""
    dest = tmp_path / "sources"
    shutil.copytree(DEFAULT_SOURCES, dest)
    return dest
