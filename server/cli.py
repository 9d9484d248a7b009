"""`atlas build`, `synth`, `serve`, `export`, `tiles`. Errors in the inputs print as plain lines, not
tracebacks."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path
from typing import Any

import click

from geo.boundaries import BoundaryPackageError
from geo.validate import ValidationError
from layers.build import DEFAULT_OUT, OutputError, build, build_into_db
from layers.features import PlacementError
from layers.registry import fields_markdown
from layers.sources import DEFAULT_SOURCES, SourceError

DB_HELP = "postgresql://… : serve from the PostGIS backend (default: the GeoPackage)"
PathType = click.Path(path_type=Path)
INPUT_ERRORS = (BoundaryPackageError, SourceError, ValidationError, PlacementError, OutputError)


def _build(args: argparse.Namespace) -> int:
    from layers.postgis import DatabaseError, redact

    try:
        if args.db:
            report = build_into_db(args.db, args.sources, args.seeds)
        else:
            report = build(args.out, args.sources, args.seeds)
    except (*INPUT_ERRORS, DatabaseError) as exc:
        problems = exc.problems if isinstance(exc, SourceError) else [str(exc)]
        for problem in problems:
            print(f"atlas build: error: {problem}", file=sys.stderr)
        if args.db:
            outcome = f"the current build in {redact(args.db)} is unchanged and keeps serving"
        else:
            outcome = (f"the previous {args.out.name} is unchanged and keeps serving"
                       if args.out.exists() else f"no {args.out.name} was written")
        print(f"atlas build: failed; {outcome}", file=sys.stderr)
        return 1
    counts = ", ".join(f"{k} {v}" for k, v in report.counts.items())
    quotes = "" if report.seeds_checked else " (seed quotes not checked: no seeds folder)"
    print(f"built {report.path.name} in {report.seconds:.1f} s, "
          f"{report.size_bytes / 1e6:.1f} MB: {counts}{quotes}")
    return 0


def _synth(args: argparse.Namespace) -> int:
    import time

    from layers.synth import synth_frames, synth_meta

    if args.points < 0:
        print("atlas synth: error: --points must be ≥ 0", file=sys.stderr)
        return 1
    from layers.postgis import DatabaseError

    if (args.out is None) == (args.db is None):
        print("atlas synth: error: give one of --out FILE or --db URL", file=sys.stderr)
        return 1
    if args.out is not None and args.out.resolve() == DEFAULT_OUT.resolve():
        print(f"atlas synth: error: {args.out} is the real atlas; synthetic data goes to a file "
              "of its own (--out bench/data/synth-1m.gpkg, say)", file=sys.stderr)
        return 1
    started = time.perf_counter()
    try:
        frames = synth_frames(args.points, args.seed)
        generated = time.perf_counter() - started
        meta = synth_meta(frames, args.points, args.seed)
        if args.db:
            report = build_into_db(args.db, args.sources, args.seeds, extra=frames, extra_meta=meta)
        else:
            report = build(args.out, args.sources, args.seeds, extra=frames, extra_meta=meta)
    except (*INPUT_ERRORS, DatabaseError) as exc:
        print(f"atlas synth: error: {exc}", file=sys.stderr)
        return 1
    synthetic = ", ".join(f"{k} {v:,}" for k, v in report.counts.items() if k.startswith("synth_"))
    where = str(report.path) if args.db else report.path.name
    print(f"wrote {where} in {time.perf_counter() - started:.1f} s (generation "
          f"{generated:.1f} s), {report.size_bytes / 1e6:.1f} MB: the atlas build plus SYNTHETIC "
          f"{synthetic} (seed {args.seed})")
    return 0


def _gunicorn_available() -> bool:
    try:
        import gunicorn.app.base  # noqa: F401  (POSIX only)
    except ImportError:
        return False
    return True


def _serve(args: argparse.Namespace) -> int:
    from layers.postgis import DatabaseError, redact
    from server import create_app

    if args.db:
        from server.store.postgis import check_database

        try:
            check_database(args.db)
        except DatabaseError as exc:
            print(f"atlas serve: error: {exc}", file=sys.stderr)
            return 1
        where = f"PostGIS {redact(args.db)}" + (f" + {len(args.db_replica)} replica(s)"
                                                if args.db_replica else "")
    else:
        where = f"data {args.data.name}"
    app = create_app({"DATA": str(args.data), "DB": args.db or "",
                      "DB_REPLICAS": list(args.db_replica or [])})
    server = args.server
    if server == "auto":
        server = "gunicorn" if _gunicorn_available() else "waitress"
    print(f"Hubei Cluster Atlas on http://{args.host}:{args.port}/ ({where}, "
          f"{server}, {args.workers if server == 'gunicorn' else 1} worker(s) × {args.threads} threads)",
          flush=True)
    if server == "waitress":
        from waitress import serve

        serve(app, host=args.host, port=args.port, threads=args.threads, ident="atlas")
        return 0
    from gunicorn.app.base import BaseApplication

    class Atlas(BaseApplication):  # gunicorn configured here, not from a file or argv
        def load_config(self):
            settings = {"bind": f"{args.host}:{args.port}", "workers": args.workers,
                        "threads": args.threads, "worker_class": "gthread",
                        "timeout": args.timeout, "graceful_timeout": 10, "keepalive": 5,
                        "max_requests": args.max_requests,
                        "max_requests_jitter": max(1, args.max_requests // 10),
                        "preload_app": True, "accesslog": None, "errorlog": "-",
                        "loglevel": "warning",
                        # X-Forwarded-* are read by the app alone (ProxyFix, ATLAS_PROXY_COUNT):
                        # gunicorn would take the scheme from any loopback peer by default
                        "forwarded_allow_ips": "", "secure_scheme_headers": {}}
            for key, value in settings.items():
                self.cfg.set(key, value)  # type: ignore[union-attr]

        def load(self):
            return app

    Atlas().run()
    return 0


def _export(args: argparse.Namespace) -> int:
    from server.exports import batch
    from server.exports.printmap import FontMissing
    from server.store import AtlasUnavailable, open_store

    store = open_store(args.data, args.db)
    try:
        rows = batch.export(store, args.per, args.format, args.out, args.lang,
                            os.environ.get("ATLAS_MAP_APPROVAL", ""))
    except (AtlasUnavailable, FontMissing) as exc:
        print(f"atlas export: error: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"atlas export: error: cannot write to {args.out}: {exc.strerror}", file=sys.stderr)
        return 1
    total = sum(r["bytes"] for r in rows)
    print(f"wrote {len(rows)} {args.format} files ({total / 1e6:.1f} MB) and index.csv to {args.out}")
    return 0


def _tiles(args: argparse.Namespace) -> int:
    import time

    from layers.registry import LAYERS
    from server.store import AtlasUnavailable, open_store
    from server.store.mvt import write_pmtiles

    layer_ids = args.layers or list(LAYERS)
    unknown = [lid for lid in layer_ids if lid not in LAYERS]
    if unknown:
        print(f"atlas tiles: error: unknown layers {unknown}; known: {', '.join(LAYERS)}",
              file=sys.stderr)
        return 1
    if not 0 <= args.minzoom <= args.maxzoom <= 16:
        print("atlas tiles: error: zooms must satisfy 0 ≤ --minzoom ≤ --maxzoom ≤ 16", file=sys.stderr)
        return 1
    started = time.perf_counter()
    try:
        report = write_pmtiles(open_store(args.data, args.db), args.out, layer_ids, args.minzoom,
                               args.maxzoom)
    except (AtlasUnavailable, ValueError) as exc:
        print(f"atlas tiles: error: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"atlas tiles: error: cannot write {args.out}: {exc.strerror}", file=sys.stderr)
        return 1
    print(f"wrote {args.out.name}: {report['tiles']} tiles (zoom {args.minzoom}–{args.maxzoom}, "
          f"{', '.join(layer_ids)}), {report['bytes'] / 1e6:.1f} MB in "
          f"{time.perf_counter() - started:.1f} s")
    return 0


def _layers(_: argparse.Namespace) -> int:
    print(fields_markdown())
    return 0


# The commands (click): the options, each with its help; the work is in the functions above,
# which take the options as one namespace and return the exit status.

db_option = click.option("--db", envvar="ATLAS_DB", metavar="URL", help=DB_HELP)
data_option = click.option("--data", type=PathType, default=DEFAULT_OUT,
                           show_default="data/build/atlas.gpkg", help="the built GeoPackage")


def _options(**options: Any) -> argparse.Namespace:
    return argparse.Namespace(**options)


@click.group(help="Hubei Cluster Atlas", context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")


@cli.command("build", help="(re)build every layer into a GeoPackage")
@click.option("--out", type=PathType, default=DEFAULT_OUT, show_default="data/build/atlas.gpkg")
@click.option("--sources", type=PathType, default=DEFAULT_SOURCES, show_default="data/sources")
@click.option("--seeds", type=PathType, default=None,
              help="seed texts for the quote check (default: data/documents)")
@click.option("--db", envvar="ATLAS_DB", metavar="URL",
              help="postgresql://… : load the build into PostGIS (switched in one transaction)")
def build_command(**options: Any) -> int:
    return _build(_options(**options))


@cli.command("synth", help="the atlas build plus SYNTHETIC national layers for benchmarks "
                           "(deterministic: same --points and --seed, same data)")
@click.option("--points", type=int, required=True, help="synthetic enterprise points")
@click.option("--out", type=PathType, help="the GeoPackage to write (not the atlas's)")
@click.option("--db", metavar="URL",
              help="postgresql://… : load it into PostGIS instead (a database of its own)")
@click.option("--seed", type=int, default=2018, show_default=True)
@click.option("--sources", type=PathType, default=DEFAULT_SOURCES, show_default="data/sources")
@click.option("--seeds", type=PathType, default=None)
def synth_command(**options: Any) -> int:
    return _synth(_options(**options))


@cli.command("serve", help="serve the built atlas")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=8000, show_default=True)
@click.option("--workers", type=int, default=2,
              help="processes (gunicorn; default 2: one per core of a small machine)")
@click.option("--threads", type=int, default=8, help="threads per process (default 8)")
@click.option("--server", type=click.Choice(["auto", "gunicorn", "waitress"]), default="auto",
              help="gunicorn where it runs (Linux, macOS), else waitress (one process)")
@click.option("--timeout", type=int, default=60,
              help="gunicorn: restart a worker silent for this many seconds (default 60)")
@click.option("--max-requests", type=int, default=0,
              help="gunicorn: recycle a worker after this many requests (0: never)")
@data_option
@db_option
@click.option("--db-replica", multiple=True, metavar="URL",
              help="a streaming replica that takes reads (repeatable); the primary is --db")
def serve_command(**options: Any) -> int:
    return _serve(_options(**options))


@cli.command("export", help="one map or deck per cluster or per Hubei city, with an index")
@click.option("--per", type=click.Choice(["cluster", "city"]), required=True)
@click.option("--format", type=click.Choice(["png", "pdf", "svg", "pptx"]), required=True)
@click.option("--out", type=PathType, required=True)
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True)
@data_option
@db_option
def export_command(**options: Any) -> int:
    return _export(_options(**options))


@cli.command("tiles", help="write the layers' vector tiles into a PMTiles archive")
@click.option("--out", type=PathType, required=True)
@click.option("--layers", multiple=True, metavar="LAYER[,LAYER…]",
              help="the layers to write, comma-separated or repeated (default: every layer)")
@click.option("--minzoom", type=int, default=0, show_default=True)
@click.option("--maxzoom", type=int, default=10, show_default=True)
@data_option
@db_option
def tiles_command(**options: Any) -> int:
    options["layers"] = [lid for value in options["layers"] for lid in value.split(",") if lid]
    return _tiles(_options(**options))


@cli.command("layers", help="print every layer's fields as Markdown")
def layers_command() -> int:
    return _layers(_options())


def main(argv: list[str] | None = None) -> int:
    """Run one command; its exit status (2 for a malformed command line, after one line)."""
    try:
        status = cli.main(args=argv, prog_name="atlas", standalone_mode=False)
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except click.exceptions.Abort:
        return 1
    return int(status or 0)


if __name__ == "__main__":
    raise SystemExit(main())
