"""Serving benchmark, side by side in one run on the same built GeoPackage: the atlas (`atlas
serve`, gunicorn), nginx serving the same bytes as static files (the limit of what a cache
can reach), and pygeoapi (OGR provider, under gunicorn with the same workers and threads).

    python bench/api.py --data data/build/atlas.gpkg [--workers 2] [--duration 5] [--rounds 3]

Needs `wrk` and `nginx` on PATH (Debian: `apt-get install -y wrk nginx`). Loopback only.
Each case runs wrk (16 connections, 2 threads) `--rounds` times; the median req/s is kept.
Writes bench/results/api.json (with the machine description) and prints a Markdown table.

pygeoapi runs in its own venv, made once by this script (bench/.venv-pygeoapi, git-ignored;
`--pygeoapi-venv` elsewhere, `--no-pygeoapi` to skip): pip installs pygeoapi, simplejson and
gunicorn; the OGR provider needs GDAL's Python bindings (`osgeo`), which pip would have to
compile against the system GDAL, so the venv is made with `--system-site-packages` from an
interpreter that already imports `osgeo` (Debian: `apt-get install -y python3-gdal`, then
/usr/bin/python3; or `--pygeoapi-python`). Tuned so it is not handicapped: gzip on (it
compresses when asked), no pretty-printing, logging at ERROR, the GeoPackage version warning
of older GDALs off (GPKG_WARN_UNRECOGNIZED_APPLICATION_ID=NO).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from local_server import free_port, wait

REPO = Path(__file__).resolve().parent.parent
PYGEOAPI_PATHS = {  # the atlas path -> the same request to pygeoapi (no map page there)
    "/api/collections/projects/items?limit=100": "/collections/projects/items?limit=100",
    "/api/collections/counties/items?limit=100": "/collections/counties/items?limit=100",
    "/api/collections/projects/items/{project}": "/collections/projects/items/{project}",
}
PYGEOAPI_LAYERS = {"projects": "id", "counties": "adcode"}  # layer -> its id field
CASES = [  # (name, path, gzip?)
    ("projects items?limit=100", "/api/collections/projects/items?limit=100", False),
    ("projects items?limit=100", "/api/collections/projects/items?limit=100", True),
    ("counties items?limit=100", "/api/collections/counties/items?limit=100", False),
    ("counties items?limit=100", "/api/collections/counties/items?limit=100", True),
    ("one project", "/api/collections/projects/items/{project}", False),
    ("one project", "/api/collections/projects/items/{project}", True),
    ("map page GET /", "/", False),
    ("map page GET /", "/", True),
]


def fetch(url: str, gz: bool) -> bytes:
    req = urllib.request.Request(url, headers={"Accept-Encoding": "gzip"} if gz else {})
    with urllib.request.urlopen(req, timeout=30) as r:
        return r.read()


def wrk(url: str, gz: bool, duration: int, rounds: int) -> dict:
    results = []
    for _ in range(rounds):
        cmd = ["wrk", "-t2", "-c16", f"-d{duration}s", "--timeout", "30s", "--latency", url]
        if gz:
            cmd[1:1] = ["-H", "Accept-Encoding: gzip"]
        out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
        rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
        errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
        p99 = re.search(r"99%\s+([\d.]+\w+)", out)
        sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
        results.append({"rps": rps, "non2xx": int(errors.group(1)) if errors else 0,
                        "socket_errors": sum(map(int, sock.groups())) if sock else 0,
                        "p99": p99.group(1) if p99 else None})
    return {"median_rps": statistics.median(r["rps"] for r in results), "rounds": results}


def nginx_conf(root: Path, port: int, workers: int, tmp: Path) -> Path:
    conf = tmp / "nginx.conf"
    conf.write_text(f"""
worker_processes {workers};
pid {tmp}/nginx.pid;
error_log {tmp}/error.log;
daemon off;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  client_body_temp_path {tmp}/body; proxy_temp_path {tmp}/proxy;
  fastcgi_temp_path {tmp}/fcgi; uwsgi_temp_path {tmp}/uwsgi; scgi_temp_path {tmp}/scgi;
  server {{
    listen 127.0.0.1:{port};
    root {root};
    default_type application/json;
    gzip_static on;
    location / {{ try_files $uri =404; }}
  }}
}}
""")
    return conf


def _proc_field(path: str, key: str) -> str:
    try:
        with open(path) as f:
            return next((line.split(":", 1)[1].strip() for line in f if line.startswith(key)), "")
    except OSError:
        return ""


def machine() -> dict:
    cpu = _proc_field("/proc/cpuinfo", "model name")
    mem = _proc_field("/proc/meminfo", "MemTotal")
    wrk_version = subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.split("\n")[0]
    return {"cpu": cpu, "cores": os.cpu_count(), "memory": mem, "os": platform.platform(),
            "python": platform.python_version(), "wrk": wrk_version}


PYGEOAPI_VENV = REPO / "bench" / ".venv-pygeoapi"
PYGEOAPI_PACKAGES = ["pygeoapi", "simplejson", "gunicorn"]


def _imports_osgeo(python: str) -> bool:
    return subprocess.run([python, "-c", "import osgeo.ogr"], capture_output=True).returncode == 0


def pygeoapi_venv(venv: Path, python: str | None) -> Path:
    """pygeoapi's own venv (made once): returns its bin folder. Raises RuntimeError saying why not."""
    bin_dir = venv / "bin"
    ready = [str(bin_dir / "python"), "-c", "import pygeoapi, simplejson, gunicorn, osgeo.ogr"]
    if (bin_dir / "python").exists() and subprocess.run(ready, capture_output=True).returncode == 0:
        return bin_dir
    candidates = [python] if python else ["/usr/bin/python3", shutil.which("python3") or ""]
    base = next((c for c in candidates if c and Path(c).exists() and _imports_osgeo(c)), None)
    if base is None:
        raise RuntimeError("no Python with GDAL's bindings (osgeo) for pygeoapi's OGR provider: "
                           "apt-get install -y python3-gdal, or --pygeoapi-python")
    print(f"making pygeoapi's venv from {base} (system site packages, for osgeo)", flush=True)
    subprocess.run([base, "-m", "venv", "--clear", "--system-site-packages", str(venv)], check=True)
    subprocess.run([str(bin_dir / "python"), "-m", "pip", "install", "-q", *PYGEOAPI_PACKAGES],
                   check=True)
    if subprocess.run(ready, capture_output=True).returncode != 0:
        raise RuntimeError("pygeoapi's venv was made but cannot import pygeoapi and osgeo")
    return bin_dir


def pygeoapi_config(data: Path, port: int, tmp: Path) -> tuple[Path, Path]:
    """pygeoapi's configuration (the projects and counties layers of `data`, OGR provider) and
    its OpenAPI document's path."""
    import pyogrio

    resources = {}
    for layer, id_field in PYGEOAPI_LAYERS.items():
        bounds = [round(float(v), 6) for v in pyogrio.read_info(data, layer=layer)["total_bounds"]]
        resources[layer] = {
            "type": "collection", "title": layer, "description": f"Hubei Cluster Atlas {layer}",
            "keywords": [layer],
            "extents": {"spatial": {"bbox": bounds,
                                    "crs": "http://www.opengis.net/def/crs/OGC/1.3/CRS84"}},
            "providers": [{
                "type": "feature", "name": "OGR", "id_field": id_field, "layer": layer,
                "data": {"source_type": "GPKG", "source": str(data.resolve()),
                         "source_capabilities": {"paging": True},
                         "gdal_ogr_options": {"GPKG_WARN_UNRECOGNIZED_APPLICATION_ID": "NO",
                                              "CPL_DEBUG": "NO"}},
            }],
        }
    url = "https://example.org/"
    config = {
        "server": {"bind": {"host": "127.0.0.1", "port": port}, "url": f"http://127.0.0.1:{port}",
                   "mimetype": "application/json; charset=UTF-8", "encoding": "utf-8",
                   "gzip": True, "languages": ["en-US"], "pretty_print": False,
                   "limits": {"default_items": 100, "max_items": 10000},
                   "map": {"url": "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
                           "attribution": "OpenStreetMap"}},
        "logging": {"level": "ERROR"},
        "metadata": {
            "identification": {"title": "Hubei Cluster Atlas", "description": "benchmark",
                               "keywords": ["atlas"], "keywords_type": "theme",
                               "terms_of_service": url, "url": url},
            "license": {"name": "CC-BY 4.0", "url": "https://creativecommons.org/licenses/by/4.0/"},
            "provider": {"name": "Hubei Cluster Atlas", "url": url},
            "contact": {"name": "atlas", "email": "atlas@example.org", "url": url,
                        "role": "pointOfContact"},
        },
        "resources": resources,
    }
    path = tmp / "pygeoapi.yml"
    path.write_text(json.dumps(config, indent=1))  # JSON is YAML
    return path, tmp / "pygeoapi-openapi.yml"


def start_pygeoapi(bin_dir: Path, data: Path, workers: int, threads: int,
                   tmp: Path) -> tuple[subprocess.Popen, str]:
    """pygeoapi under gunicorn with the atlas's worker model (gthread, same workers and threads)."""
    port = free_port()
    config, openapi = pygeoapi_config(data, port, tmp)
    env = dict(os.environ, PYGEOAPI_CONFIG=str(config), PYGEOAPI_OPENAPI=str(openapi),
               GPKG_WARN_UNRECOGNIZED_APPLICATION_ID="NO")
    subprocess.run([str(bin_dir / "pygeoapi"), "openapi", "generate", str(config),
                    "--output-file", str(openapi)], env=env, check=True, capture_output=True)
    proc = subprocess.Popen([str(bin_dir / "gunicorn"), "--workers", str(workers), "--worker-class",
                             "gthread", "--threads", str(threads), "--bind", f"127.0.0.1:{port}",
                             "--log-level", "warning", "pygeoapi.flask_app:APP"],
                            env=env, cwd=tmp, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return proc, f"http://127.0.0.1:{port}"


def pygeoapi_version(bin_dir: Path) -> str:
    return subprocess.run([str(bin_dir / "python"), "-c",
                           "import pygeoapi, osgeo; print(pygeoapi.__version__, osgeo.__version__)"],
                          capture_output=True, text=True).stdout.strip()


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--data", type=Path, default=REPO / "data/build/atlas.gpkg")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--duration", type=int, default=5)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--out", type=Path, default=REPO / "bench/results/api.json")
    p.add_argument("--no-pygeoapi", action="store_true", help="skip the pygeoapi column")
    p.add_argument("--pygeoapi-venv", type=Path, default=PYGEOAPI_VENV)
    p.add_argument("--pygeoapi-python", default=None,
                   help="interpreter with GDAL's bindings to make pygeoapi's venv from")
    args = p.parse_args()
    pygeoapi_bin, pygeoapi_why = None, "skipped (--no-pygeoapi)"
    if not args.no_pygeoapi:
        try:
            pygeoapi_bin = pygeoapi_venv(args.pygeoapi_venv, args.pygeoapi_python)
        except (RuntimeError, subprocess.CalledProcessError) as exc:
            pygeoapi_why = str(exc)
            print(f"pygeoapi column skipped: {exc}", file=sys.stderr)
    for tool in ("wrk", "nginx"):
        if not shutil.which(tool):
            print(f"{tool} not found: apt-get install -y wrk nginx", file=sys.stderr)
            return 1
    port = free_port()
    atlas = subprocess.Popen([sys.executable, "-m", "server.cli", "serve", "--data", str(args.data),
                              "--port", str(port), "--workers", str(args.workers)],
                             cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    tmp = Path(tempfile.mkdtemp(prefix="atlas-bench-"))
    tmp.chmod(0o755)  # nginx workers (another user when started as root) read the files
    nginx = pygeoapi = None
    try:
        base = f"http://127.0.0.1:{port}"
        wait(f"{base}/healthz")
        first = json.loads(fetch(f"{base}/api/collections/projects/items?limit=1", False))
        project = first["features"][0]["id"]
        # the same bytes as files for nginx (identity and .gz), one per case
        root = tmp / "root"
        root.mkdir()
        static = {}
        for i, (_, path, _) in enumerate(CASES[::2]):
            url = base + path.format(project=project)
            name = f"case{i}.json"
            (root / name).write_bytes(fetch(url, False))
            (root / (name + ".gz")).write_bytes(fetch(url, True))
            static[path] = name
        nport = free_port()
        nginx = subprocess.Popen(["nginx", "-c", str(nginx_conf(root, nport, args.workers, tmp))],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait(f"http://127.0.0.1:{nport}/{static[CASES[0][1]]}")
        if pygeoapi_bin is not None:
            pygeoapi, pbase = start_pygeoapi(pygeoapi_bin, args.data, args.workers, 8, tmp)
            wait(f"{pbase}/collections/projects/items?limit=1")
            for path in PYGEOAPI_PATHS.values():  # each answers 200 before it is measured
                fetch(pbase + path.format(project=project), False)
        for path in {c[1] for c in CASES}:  # warm the per-build cache once
            for gz in (False, True):
                fetch(base + path.format(project=project), gz)
        rows = []
        for name, path, gz in CASES:
            url = base + path.format(project=project)
            size = len(fetch(url, gz))
            a = wrk(url, gz, args.duration, args.rounds)
            n = wrk(f"http://127.0.0.1:{nport}/{static[path]}", gz, args.duration, args.rounds)
            g = None
            if pygeoapi is not None and path in PYGEOAPI_PATHS:
                purl = pbase + PYGEOAPI_PATHS[path].format(project=project)
                g = wrk(purl, gz, args.duration, args.rounds)
                g["bytes"] = len(fetch(purl, gz))
            rows.append({"case": name, "gzip": gz, "bytes": size, "atlas": a, "nginx": n,
                         "pygeoapi": g,
                         "nginx_over_atlas": round(n["median_rps"] / a["median_rps"], 2),
                         "atlas_over_pygeoapi": (round(a["median_rps"] / g["median_rps"], 1)
                                                 if g and g["median_rps"] else None)})
            print(f"{name:28} gzip={gz!s:5} {size:>9} B  atlas {a['median_rps']:>9.0f} req/s  "
                  f"nginx {n['median_rps']:>9.0f} req/s  "
                  f"pygeoapi {g['median_rps'] if g else '-':>9} req/s", flush=True)
        result = {"when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "machine": machine(),
                  "settings": {"workers": args.workers, "wrk": "-t2 -c16", "duration_s": args.duration,
                               "rounds": args.rounds, "statistic": "median req/s"},
                  "pygeoapi": ({"version (pygeoapi, GDAL)": pygeoapi_version(pygeoapi_bin),
                                "server": f"gunicorn gthread, {args.workers} workers x 8 threads",
                                "provider": "OGR on the same GeoPackage", "gzip": True}
                               if pygeoapi_bin else {"skipped": pygeoapi_why}),
                  "cases": rows}
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n")
        print("\n| case | gzip | bytes | atlas req/s | nginx req/s | nginx/atlas "
              "| pygeoapi bytes | pygeoapi req/s | atlas/pygeoapi |")
        print("|---|---|---|---|---|---|---|---|---|")
        for r in rows:
            g = r["pygeoapi"]
            pg = (f"{g['bytes']:,} | {g['median_rps']:,.1f} | {r['atlas_over_pygeoapi'] or 'n/a'}"
                  if g else "– | – | –")
            print(f"| {r['case']} | {'yes' if r['gzip'] else 'no'} | {r['bytes']:,} | "
                  f"{r['atlas']['median_rps']:,.0f} | {r['nginx']['median_rps']:,.0f} | "
                  f"{r['nginx_over_atlas']} | {pg} |")
    finally:
        for proc in (atlas, nginx, pygeoapi):
            if proc is not None:
                proc.terminate()
                proc.wait(timeout=15)
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
