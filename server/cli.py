"""`atlas build`, `synth`, `serve`, `export`, `tiles`. Errors in the inputs print as plain lines, not
tracebacks."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from geo.boundaries import BoundaryPackageError
from geo.validate import ValidationError
from layers.build import DEFAULT_OUT, OutputError, build, build_into_db
from layers.features import PlacementError
from layers.registry import fields_markdown
from layers.sources import DEFAULT_SOURCES, SourceError

DB_HELP = "postgresql://… : serve from the PostGIS backend (default: the GeoPackage)"
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
                        "loglevel": "warning"}
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="atlas", description="Hubei Cluster Atlas")
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="(re)build every layer into a GeoPackage")
    b.add_argument("--out", type=Path, default=DEFAULT_OUT)
    b.add_argument("--sources", type=Path, default=DEFAULT_SOURCES)
    b.add_argument("--seeds", type=Path, default=None,
                   help="seed texts for the quote check (default: data/documents)")
    b.add_argument("--db", default=os.environ.get("ATLAS_DB"), metavar="URL",
                   help="postgresql://… : load the build into PostGIS (switched in one transaction)")
    b.set_defaults(run=_build)
    y = sub.add_parser("synth", help="the atlas build plus SYNTHETIC national layers for benchmarks "
                                     "(deterministic: same --points and --seed, same data)")
    y.add_argument("--points", type=int, required=True, help="synthetic enterprise points")
    y.add_argument("--out", type=Path, help="the GeoPackage to write (not the atlas's)")
    y.add_argument("--db", metavar="URL",
                   help="postgresql://… : load it into PostGIS instead (a database of its own)")
    y.add_argument("--seed", type=int, default=2018)
    y.add_argument("--sources", type=Path, default=DEFAULT_SOURCES)
    y.add_argument("--seeds", type=Path, default=None)
    y.set_defaults(run=_synth)
    s = sub.add_parser("serve", help="serve the built atlas")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=8000)
    s.add_argument("--workers", type=int, default=2,
                   help="processes (gunicorn; default 2: one per core of a small machine)")
    s.add_argument("--threads", type=int, default=8, help="threads per process (default 8)")
    s.add_argument("--server", choices=("auto", "gunicorn", "waitress"), default="auto",
                   help="gunicorn where it runs (Linux, macOS), else waitress (one process)")
    s.add_argument("--timeout", type=int, default=60,
                   help="gunicorn: restart a worker silent for this many seconds (default 60)")
    s.add_argument("--max-requests", type=int, default=0,
                   help="gunicorn: recycle a worker after this many requests (0: never)")
    s.add_argument("--data", type=Path, default=DEFAULT_OUT)
    s.add_argument("--db", default=os.environ.get("ATLAS_DB"), metavar="URL",
                   help=DB_HELP)
    s.add_argument("--db-replica", action="append", metavar="URL",
                   help="a streaming replica that takes reads (repeatable); the primary is --db")
    s.set_defaults(run=_serve)
    e = sub.add_parser("export", help="one map or deck per cluster or per Hubei city, with an index")
    e.add_argument("--per", choices=("cluster", "city"), required=True)
    e.add_argument("--format", choices=("png", "pdf", "svg", "pptx"), required=True)
    e.add_argument("--out", type=Path, required=True)
    e.add_argument("--lang", choices=("zh", "en"), default="zh")
    e.add_argument("--data", type=Path, default=DEFAULT_OUT)
    e.add_argument("--db", default=os.environ.get("ATLAS_DB"), metavar="URL",
                   help=DB_HELP)
    e.set_defaults(run=_export)
    t = sub.add_parser("tiles", help="write the layers' vector tiles into a PMTiles archive")
    t.add_argument("--out", type=Path, required=True)
    t.add_argument("--layers", nargs="+", metavar="LAYER", help="default: every layer")
    t.add_argument("--minzoom", type=int, default=0)
    t.add_argument("--maxzoom", type=int, default=10)
    t.add_argument("--data", type=Path, default=DEFAULT_OUT)
    t.add_argument("--db", default=os.environ.get("ATLAS_DB"), metavar="URL",
                   help=DB_HELP)
    t.set_defaults(run=_tiles)
    lay = sub.add_parser("layers", help="print every layer's fields as Markdown")
    lay.set_defaults(run=_layers)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    return args.run(args)


if __name__ == "__main__":
    raise SystemExit(main())
