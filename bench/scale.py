"""National-scale benchmark: the API and the vector tiles on synthetic data (`atlas synth`) at
10k, 100k and 1M enterprise points, per serving backend.

    python bench/scale.py [--points 10000 100000 1000000] [--backends embedded]
                          [--workers 2] [--duration 5] [--rounds 3] [--tiles 150] [--reuse]

For each point count: `atlas synth --points N` (wall and CPU time, file size; `--reuse` keeps
a file of the same N and seed from an earlier run, under bench/.scale-data/), then for each
backend: load the dataset, start the server, and measure

- time to the first answer (the server reads and prepares the layer on first use);
- items throughput and latency (wrk, 2 threads, 16 connections, `--rounds` rounds of
  `--duration` s, median req/s; latency median and p99 of the median round) for
  `synth_enterprises` pages of 100: without bbox (a random offset), with a random 0.5° box and
  a random 4° box in eastern China (bbox cost grows with the hits), and one item by a random
  id. Every request is a different URL (a wrk Lua script draws them), so the response cache
  is missed, as it would be by many users looking at different places;
- tile latency (median, p99) and bytes (median, max) at zoom 5, 8 and 11: every tile is
  requested once (a cold tile), one client, `--tiles` tiles per zoom drawn (seeded) from those
  holding points (all of them at zoom 5), after one warm-up tile per process;
- RSS of every server process (current and peak, from /proc) after the measurements;
- where the backend can answer in this process (embedded: Flask's test client), the app's own
  time per request for the same four cases, 500 different requests each, and their mean
  numberMatched: a figure that other work on the machine disturbs much less than wrk's.

Backends are entries of BACKENDS: each knows whether it can run here, how to load a synth
GeoPackage and serve it, and its request paths. `embedded` is `atlas serve` (gunicorn, the
GeoPackage read into memory by each worker). A PostGIS backend (the same API over the
database) and a peer server (tipg) are meant to be added beside it, with the same cases.

Needs `wrk` (Debian: `apt-get install -y wrk`). Loopback only. Writes bench/results/scale.json
(with the machine description) and prints a Markdown table.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import random
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyogrio
import shapely
from api import machine
from local_server import atlas_process, free_port, wait

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools"))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import pg_local  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "bench" / ".scale-data"
RESULTS = REPO / "bench" / "results" / "scale.json"
LAYER = "synth_enterprises"
SEED = 2018
ZOOMS = (5, 8, 11)
EAST = (100.0, 22.0, 122.0, 40.0)  # where the random boxes fall (lon0, lat0, lon1, lat1)


# ---------------------------------------------------------------------------------------------
# Backends


@dataclass
class Server:
    base: str
    pids: list[int] = field(default_factory=list)  # every process serving (for RSS)


class Unavailable(RuntimeError):
    """The backend cannot run on this machine; the message says why."""


class Backend:
    """One way of serving a synth dataset. Subclasses: `name`, `check`, `load`, `serve` and
    the request paths (OGC API – Features items, one item, XYZ tiles)."""

    name = "?"
    description = ""
    item_format = "SE%%07d"  # Lua format of the item id of row n (the synth ids: SE0000001 …)

    def check(self) -> None:
        """Raise Unavailable if this backend cannot run here."""

    def load(self, gpkg: Path, work: Path) -> dict:
        """Make the dataset servable (e.g. copy it into a database); returns what it took."""
        return {}

    def serve(self, gpkg: Path, workers: int) -> contextlib.AbstractContextManager[Server]:
        raise NotImplementedError

    def items_path(self, layer: str) -> str:
        raise NotImplementedError

    def in_process(self, gpkg: Path):
        """A client answering in this process (`get(path)` → response with `status_code`), to
        time the server's own work per request without wrk, sockets or other processes; None
        where the backend has no such thing."""
        return None

    def tile_path(self, layer: str) -> str:
        """With {z}, {x}, {y}."""
        raise NotImplementedError


class Embedded(Backend):
    name = "embedded"
    description = ("atlas serve (gunicorn gthread, N workers x 8 threads), the GeoPackage read "
                   "into memory by each worker, layers prepared on first use")

    def load(self, gpkg: Path, work: Path) -> dict:
        return {"seconds": 0.0, "how": "the GeoPackage as written; each worker reads it on start"}

    @contextlib.contextmanager
    def serve(self, gpkg: Path, workers: int) -> Iterator[Server]:
        with atlas_process(gpkg, REPO, "--workers", str(workers), seconds=600) as (base, proc):
            yield Server(base, [proc.pid])

    def items_path(self, layer: str) -> str:
        return f"/api/collections/{layer}/items"

    def in_process(self, gpkg: Path):
        sys.path.insert(0, str(REPO))
        from server import create_app

        return create_app({"DATA": str(gpkg), "TESTING": True}).test_client()

    def tile_path(self, layer: str) -> str:
        return f"/tiles/{layer}/{{z}}/{{x}}/{{y}}.mvt"


class _Database:
    """One PostgreSQL + PostGIS server for the run (tools/pg_local.py, loopback), a database
    per point count, loaded once with `layers.postgis.load_gpkg` (what `atlas build --db` and
    `atlas synth --db` do) and shared by the PostGIS backend and tipg."""

    def __init__(self) -> None:
        self.root: Path | None = None
        self.url = ""
        self.loaded: dict[str, tuple[str, str, dict]] = {}  # gpkg -> (url, schema, load info)

    def check(self) -> None:
        try:
            pg_local.bin_dir()
        except pg_local.PostgresMissing as exc:
            raise Unavailable(str(exc)) from None

    def load(self, gpkg: Path) -> tuple[str, str, dict]:
        import psycopg

        from layers.postgis import load_gpkg

        if str(gpkg) in self.loaded:
            return self.loaded[str(gpkg)]
        if self.root is None:
            self.root = Path(tempfile.mkdtemp(prefix="atlas-scale-pg-"))
            self.root.chmod(0o755)
            self.url = pg_local.start(self.root / "data")
        name = "scale_" + re.sub(r"[^a-z0-9]+", "_", gpkg.stem.lower())
        with psycopg.connect(self.url, autocommit=True) as con:
            con.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            con.execute(f"CREATE DATABASE {name}")
        url = self.url.rsplit("/", 1)[0] + "/" + name
        with psycopg.connect(url, autocommit=True) as con:
            con.execute("CREATE EXTENSION postgis")
        report = load_gpkg(gpkg, url)
        info = {"seconds": round(report.seconds, 1),
                "how": "load_gpkg: COPY of every table, GiST and id indexes, ANALYZE, switch"}
        self.loaded[str(gpkg)] = (url, report.schema, info)
        return self.loaded[str(gpkg)]

    def close(self) -> None:
        if self.root is not None:
            pg_local.remove(self.root / "data")
            shutil.rmtree(self.root, ignore_errors=True)


DATABASE = _Database()


class Postgis(Backend):
    name = "postgis"
    description = ("atlas serve --db (gunicorn gthread, N workers x 8 threads): the synthetic "
                   "layers stay in PostGIS — items by SQL (GiST bbox), tiles by ST_AsMVT")

    def check(self) -> None:
        DATABASE.check()

    def load(self, gpkg: Path, work: Path) -> dict:
        return DATABASE.load(gpkg)[2]

    def in_process(self, gpkg: Path):
        from server import create_app

        return create_app({"DB": DATABASE.load(gpkg)[0], "TESTING": True}).test_client()

    @contextlib.contextmanager
    def serve(self, gpkg: Path, workers: int) -> Iterator[Server]:
        url = DATABASE.load(gpkg)[0]
        with atlas_process(url, REPO, "--workers", str(workers), seconds=600) as (base, proc):
            yield Server(base, [proc.pid])

    def items_path(self, layer: str) -> str:
        return f"/api/collections/{layer}/items"

    def tile_path(self, layer: str) -> str:
        return f"/tiles/{layer}/{{z}}/{{x}}/{{y}}.mvt"


TIPG_VENV = REPO / "bench" / ".venv-tipg"


class Tipg(Backend):
    """The peer: tipg (developmentseed; FastAPI + asyncpg, PostGIS ST_AsMVT) on the same
    database, under uvicorn with the same worker count, in a venv of its own."""

    name = "tipg"
    description = ("tipg (PyPI) under uvicorn, N workers, on the same PostGIS database and "
                   "tables, its defaults (MVT extent 4096, buffer 256, at most 10,000 "
                   "features a tile, items limit as asked)")

    def check(self) -> None:
        DATABASE.check()
        python = TIPG_VENV / "bin" / "python"
        if not python.exists():
            subprocess.run([sys.executable, "-m", "venv", str(TIPG_VENV)], check=True)
            subprocess.run([str(TIPG_VENV / "bin" / "pip"), "install", "--quiet", "tipg", "uvicorn"],
                           check=True)
        self.version = subprocess.run([str(python), "-c", "import tipg; print(tipg.__version__)"],
                                      capture_output=True, text=True, check=True).stdout.strip()

    def load(self, gpkg: Path, work: Path) -> dict:
        url, schema, _ = DATABASE.load(gpkg)
        self.schema = schema
        return {"seconds": 0.0, "how": f"the postgis backend's database ({schema}), as loaded"}

    @contextlib.contextmanager
    def serve(self, gpkg: Path, workers: int) -> Iterator[Server]:
        url, schema, _ = DATABASE.load(gpkg)
        port = free_port()
        env = dict(os.environ, DATABASE_URL=url, TIPG_DB_SCHEMAS=json.dumps([schema]),
                   TIPG_DB_TABLES=json.dumps([f"{schema}.{LAYER}"]))
        proc = subprocess.Popen([str(TIPG_VENV / "bin" / "uvicorn"), "tipg.main:app", "--host",
                                 "127.0.0.1", "--port", str(port), "--workers", str(workers),
                                 "--log-level", "warning", "--no-access-log"], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        base = f"http://127.0.0.1:{port}"
        try:
            wait(base + "/healthz", 600)
            yield Server(base, [proc.pid])
        finally:
            proc.terminate()
            proc.wait(timeout=30)

    item_format = "%%d"  # tipg's id is the table's primary key: fid, the row number

    def items_path(self, layer: str) -> str:
        return f"/collections/{self.schema}.{layer}/items"

    def tile_path(self, layer: str) -> str:
        return f"/collections/{self.schema}.{layer}/tiles/WebMercatorQuad/{{z}}/{{x}}/{{y}}"


BACKENDS: list[Backend] = [Embedded(), Postgis(), Tipg()]


# ---------------------------------------------------------------------------------------------
# Datasets


def synth_meta(path: Path) -> dict | None:
    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            row = con.execute("SELECT value FROM atlas_meta WHERE key = 'synthetic'").fetchone()
        finally:
            con.close()
    except sqlite3.Error:
        return None
    return json.loads(row[0]) if row else None


def dataset(points: int, reuse: bool) -> tuple[Path, dict]:
    """The synth GeoPackage for `points` (made now, or reused), with what making it took."""
    DATA.mkdir(parents=True, exist_ok=True)
    path = DATA / f"synth-{points}.gpkg"
    meta = synth_meta(path) if reuse and path.exists() else None
    if meta and meta.get("points") == points and meta.get("seed") == SEED:
        return path, {"reused": True, "bytes": path.stat().st_size}
    log = DATA / f"synth-{points}.log"
    started = time.perf_counter()
    with open(log, "w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "server.cli", "synth", "--points", str(points),
                                 "--seed", str(SEED), "--out", str(path)], cwd=REPO, stdout=out,
                                stderr=subprocess.DEVNULL)
        _, status, usage = os.wait4(proc.pid, 0)  # this child's own CPU time and peak memory
    wall = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise RuntimeError(f"atlas synth --points {points} failed ({proc.returncode})")
    generation = re.search(r"generation ([\d.]+) s", log.read_text())
    return path, {"reused": False, "wall_s": round(wall, 1),
                  "cpu_s": round(usage.ru_utime + usage.ru_stime, 1),
                  "generation_wall_s": float(generation.group(1)) if generation else None,
                  "peak_rss_mb": round(usage.ru_maxrss / 1024),
                  "load_average": os.getloadavg(),
                  "bytes": path.stat().st_size}


def point_lonlat(path: Path) -> np.ndarray:
    frame = pyogrio.read_dataframe(path, layer=LAYER, columns=[])
    return np.column_stack([shapely.get_x(frame.geometry.values), shapely.get_y(frame.geometry.values)])


def tiles_with_points(lonlat: np.ndarray, z: int, count: int,
                      rng: random.Random) -> list[tuple[int, int, int]]:
    """Up to `count` tiles at zoom z holding enterprise points (all of them if fewer), sorted."""
    n = 1 << z
    x = np.floor((lonlat[:, 0] + 180) / 360 * n).astype(np.int64)
    r = np.radians(lonlat[:, 1])
    y = np.floor((1 - np.log(np.tan(r) + 1 / np.cos(r)) / math.pi) / 2 * n).astype(np.int64)
    cells = sorted(set(zip(x.tolist(), y.tolist())))
    chosen = cells if len(cells) <= count else rng.sample(cells, count)
    return [(z, tx, ty) for tx, ty in sorted(chosen)]


# ---------------------------------------------------------------------------------------------
# Measuring


LUA = """
local counter = 0
function setup(thread) thread:set("id", counter); counter = counter + 1 end
function init(args) math.randomseed(%(seed)d + 7919 * id) end
local points = %(points)d
local function box(size)
  local x = %(x0)f + math.random() * (%(x1)f - %(x0)f - size)
  local y = %(y0)f + math.random() * (%(y1)f - %(y0)f - size)
  return string.format("%%.5f,%%.5f,%%.5f,%%.5f", x, y, x + size, y + size)
end
request = function()
  local path
%(body)s
  return wrk.format("GET", path)
end
"""
CASES = {  # name -> Lua lines that set `path` (items = the backend's items path)
    "items limit=100": '  path = "%(items)s?limit=100&offset=" .. math.random(0, points - 100)',
    "items bbox 0.5° limit=100": '  path = "%(items)s?limit=100&bbox=" .. box(0.5)',
    "items bbox 4° limit=100": '  path = "%(items)s?limit=100&bbox=" .. box(4)',
    "one item": '  path = string.format("%(items)s/%(item)s", math.random(1, points))',
}


def python_paths(case: str, items: str, points: int, count: int, rng: random.Random) -> list[str]:
    """The same requests as the case's Lua script draws, for the in-process timing."""
    def box(size: float) -> str:
        x = EAST[0] + rng.random() * (EAST[2] - EAST[0] - size)
        y = EAST[1] + rng.random() * (EAST[3] - EAST[1] - size)
        return f"{x:.5f},{y:.5f},{x + size:.5f},{y + size:.5f}"

    make = {"items limit=100": lambda: f"{items}?limit=100&offset={rng.randint(0, points - 100)}",
            "items bbox 0.5° limit=100": lambda: f"{items}?limit=100&bbox={box(0.5)}",
            "items bbox 4° limit=100": lambda: f"{items}?limit=100&bbox={box(4)}",
            "one item": lambda: f"{items}/SE{rng.randint(1, points):07d}"}[case]
    return [make() for _ in range(count)]


def in_process_cost(client, items: str, points: int, count: int = 500) -> dict:
    """Mean milliseconds of the app's own work per request (Flask's test client: no sockets,
    no wrk) over `count` different requests per case after 50 warm-up ones, and the mean
    numberMatched (the bbox cases' hits)."""
    rng = random.Random(SEED)
    client.get(f"{items}?limit=1")
    out = {}
    for case in CASES:
        paths = python_paths(case, items, points, count + 50, rng)
        for path in paths[:50]:
            client.get(path)
        matched = []
        started = time.perf_counter()
        for path in paths[50:]:
            r = client.get(path)
            if r.status_code != 200:
                raise RuntimeError(f"{path}: {r.status_code}")
            matched.append(r.get_json().get("numberMatched", 1))
        ms = (time.perf_counter() - started) / count * 1000
        out[case] = {"ms_per_request": round(ms, 2), "mean_matched": round(statistics.mean(matched))}
    return out


def lua(case: str, items: str, points: int, tmp: Path, item: str = "SE%%07d") -> Path:
    body = CASES[case] % {"items": items, "item": item}
    script = LUA % {"seed": SEED, "points": points, "body": body, "x0": EAST[0], "y0": EAST[1],
                    "x1": EAST[2], "y1": EAST[3]}
    path = tmp / f"{re.sub(r'[^a-z0-9]+', '-', case.lower())}.lua"
    path.write_text(script)
    return path


def _ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def wrk(base: str, script: Path, duration: int, rounds: int) -> dict:
    results = []
    for _ in range(rounds):
        out = subprocess.run(["wrk", "-t2", "-c16", f"-d{duration}s", "--timeout", "30s", "--latency",
                              "-s", str(script), base], capture_output=True, text=True, check=True).stdout
        rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
        p50 = re.search(r"50%\s+([\d.]+\w+)", out)
        p99 = re.search(r"99%\s+([\d.]+\w+)", out)
        errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
        sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
        results.append({"rps": rps, "p50_ms": _ms(p50.group(1)) if p50 else None,
                        "p99_ms": _ms(p99.group(1)) if p99 else None,
                        "non2xx": int(errors.group(1)) if errors else 0,
                        "socket_errors": sum(map(int, sock.groups())) if sock else 0})
    middle = sorted(results, key=lambda r: r["rps"])[len(results) // 2]
    return {"median_rps": middle["rps"], "p50_ms": middle["p50_ms"], "p99_ms": middle["p99_ms"],
            "rounds": results}


def fetch(url: str) -> tuple[float, int]:
    started = time.perf_counter()
    with urllib.request.urlopen(url, timeout=120) as r:
        body = r.read()
        if r.status != 200:
            raise RuntimeError(f"{url}: {r.status}")
    return (time.perf_counter() - started) * 1000, len(body)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q / 100 * len(ordered)) - 1))]


def tile_latency(base: str, template: str, tiles: list[tuple[int, int, int]]) -> dict:
    times, sizes = [], []
    for z, x, y in tiles:
        ms, size = fetch(base + template.format(z=z, x=x, y=y))
        times.append(ms)
        sizes.append(size)
    return {"tiles": len(tiles), "median_ms": round(statistics.median(times), 1),
            "p99_ms": round(percentile(times, 99), 1), "median_bytes": int(statistics.median(sizes)),
            "max_bytes": max(sizes)}


def descendants(pid: int) -> list[int]:
    """pid and every process below it (gunicorn's master and its workers)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo += children.get(p, [])
    return out


def rss(pids: list[int]) -> list[dict]:
    out = []
    for pid in pids:
        for p in descendants(pid):
            try:
                status = Path(f"/proc/{p}/status").read_text()
            except OSError:
                continue
            kb = {k: int(v.split()[0]) for k, v in re.findall(r"^(VmRSS|VmHWM):\s+(.+)$", status, re.M)}
            out.append({"pid": p, "role": "master" if p == pid else "worker",
                        "rss_mb": round(kb.get("VmRSS", 0) / 1024),
                        "peak_mb": round(kb.get("VmHWM", 0) / 1024)})
    return out


WARM_TILES = 8  # per zoom, requested before measuring (never measured): each process's first
# tile of a layer prepares it for tiles


def measure(backend: Backend, gpkg: Path, points: int, args, tmp: Path) -> dict:
    loaded = backend.load(gpkg, tmp)
    rng = random.Random(SEED)
    lonlat = point_lonlat(gpkg)
    tiles, warm_tiles = {}, {}
    for z in ZOOMS:
        drawn = tiles_with_points(lonlat, z, args.tiles + WARM_TILES, rng)
        warm_tiles[z] = rng.sample(drawn, min(WARM_TILES, len(drawn) // 4))
        tiles[z] = [t for t in drawn if t not in warm_tiles[z]][:args.tiles]
    started = time.perf_counter()
    with backend.serve(gpkg, args.workers) as server:
        items = backend.items_path(LAYER)
        first_ms, _ = fetch(f"{server.base}{items}?limit=1")
        first = time.perf_counter() - started
        scripts = {case: lua(case, items, points, tmp, backend.item_format) for case in CASES}
        for script in scripts.values():  # every worker reads the file and prepares the layer
            wrk(server.base, script, 2, 1)
        template = backend.tile_path(LAYER)
        for z in ZOOMS:
            for _, x, y in warm_tiles[z]:
                fetch(server.base + template.format(z=z, x=x, y=y))
        out: dict = {"load": loaded, "first_answer_s": round(first, 1),
                     "load_average_before": os.getloadavg(),
                     "first_answer_request_ms": round(first_ms, 1), "items": {}, "tiles": {}}
        for case, script in scripts.items():
            out["items"][case] = r = wrk(server.base, script, args.duration, args.rounds)
            print(f"  {backend.name} {points:>9,} {case:28} {r['median_rps']:>8.0f} req/s  "
                  f"p50 {r['p50_ms']} ms  p99 {r['p99_ms']} ms", flush=True)
        for z in ZOOMS:
            out["tiles"][z] = t = tile_latency(server.base, template, tiles[z])
            print(f"  {backend.name} {points:>9,} tiles z{z:<2} ({t['tiles']:>3}) median {t['median_ms']} ms "
                  f"p99 {t['p99_ms']} ms  bytes median {t['median_bytes']:,} max {t['max_bytes']:,}",
                  flush=True)
        out["processes"] = rss(server.pids)
        out["load_average_after"] = os.getloadavg()
    client = backend.in_process(gpkg)
    if client is not None:  # after the server stopped: the cores to itself (and the others' load)
        out["in_process"] = cost = in_process_cost(client, backend.items_path(LAYER), points)
        each = ", ".join(f"{k} {v['ms_per_request']} ({v['mean_matched']:,} matched)"
                         for k, v in cost.items())
        print(f"  {backend.name} {points:>9,} in-process ms/request: {each}", flush=True)
    return out


def table(result: dict) -> str:
    lines = ["| backend | points | `atlas synth` | first answer | items req/s (p50 / p99 ms): "
             "no bbox · bbox 0.5° · bbox 4° · one item | tiles median / p99 ms (median KB): "
             "z5 · z8 · z11 | RSS per worker | in-process ms/request: no bbox · 0.5° · 4° · one |",
             "|---|---|---|---|---|---|---|---|"]
    for name, runs in result["backends"].items():
        for points, run in runs.items():
            if "skipped" in run:
                continue
            made = result["datasets"][points]
            synth = "reused" if made.get("reused") else f"{made['wall_s']} s ({made['cpu_s']} s CPU)"
            items = " · ".join(f"{r['median_rps']:,.0f} ({r['p50_ms']:.1f} / {r['p99_ms']:.1f})"
                               for r in run["items"].values())
            tiles = " · ".join(f"{t['median_ms']} / {t['p99_ms']} ({t['median_bytes'] / 1000:.0f})"
                               for t in run["tiles"].values())
            workers = [p["rss_mb"] for p in run["processes"] if p["role"] == "worker"] or \
                [p["rss_mb"] for p in run["processes"]]
            own = " · ".join(str(c["ms_per_request"]) for c in run.get("in_process", {}).values()) or "–"
            lines.append(f"| {name} | {int(points):,} | {synth} | {run['first_answer_s']} s | {items} | "
                         f"{tiles} | {max(workers):,} MB | {own} |")
    return "\n".join(lines)


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--points", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    p.add_argument("--backends", nargs="+", default=[b.name for b in BACKENDS],
                   choices=[b.name for b in BACKENDS])
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--duration", type=int, default=5)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--tiles", type=int, default=150, help="cold tiles per zoom")
    p.add_argument("--reuse", action="store_true", help="keep synth files of an earlier run")
    p.add_argument("--out", type=Path, default=RESULTS)
    args = p.parse_args()
    if not shutil.which("wrk"):
        print("wrk not found: apt-get install -y wrk", file=sys.stderr)
        return 1
    result: dict = {"when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "machine": machine(),
                    "settings": {"workers": args.workers, "wrk": "-t2 -c16, a different URL per request",
                                 "duration_s": args.duration, "rounds": args.rounds,
                                 "statistic": "median req/s of the rounds, latency of that round",
                                 "tiles_per_zoom": args.tiles, "layer": LAYER, "seed": SEED,
                                 "boxes_in": EAST},
                    "datasets": {}, "backends": {}}
    chosen = [b for b in BACKENDS if b.name in args.backends]
    tmp = Path(tempfile.mkdtemp(prefix="atlas-scale-"))
    try:
        for points in args.points:
            gpkg, made = dataset(points, args.reuse)
            result["datasets"][str(points)] = made
            print(f"synth {points:,}: {made}", flush=True)
            for backend in chosen:
                runs = result["backends"].setdefault(backend.name, {})
                try:
                    backend.check()
                except Unavailable as exc:
                    runs[str(points)] = {"skipped": str(exc)}
                    continue
                runs[str(points)] = measure(backend, gpkg, points, args, tmp)
        result["backend_descriptions"] = {b.name: b.description for b in chosen}
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n")
        print()
        print(table(result))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        DATABASE.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
