"""Serving benchmark: the atlas (`atlas serve`, gunicorn) against nginx serving the same bytes
as static files (the limit of what a cache can reach), side by side in one run.

    python bench/api.py --data data/build/atlas.gpkg [--workers 2] [--duration 5] [--rounds 3]

Needs `wrk` and `nginx` on PATH (Debian: `apt-get install -y wrk nginx`). Loopback only.
Each case runs wrk (16 connections, 2 threads) `--rounds` times; the median req/s is kept.
Writes bench/results/api.json (with the machine description) and prints a Markdown table.

Not done yet: the pygeoapi column (pygeoapi in its own venv, OGR provider, on the same
GeoPackage); see the README's measurements.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait(url: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer")


def fetch(url: str, gz: bool) -> bytes:
    req = urllib.request.Request(url, headers={"Accept-Encoding": "gzip"} if gz else {})
    with urllib.request.urlopen(req, timeout=30) as r:
        return r.read()


def wrk(url: str, gz: bool, duration: int, rounds: int) -> dict:
    results = []
    for _ in range(rounds):
        cmd = ["wrk", "-t2", "-c16", f"-d{duration}s", "--latency", url]
        if gz:
            cmd[1:1] = ["-H", "Accept-Encoding: gzip"]
        out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
        rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
        errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
        p99 = re.search(r"99%\s+([\d.]+\w+)", out)
        results.append({"rps": rps, "non2xx": int(errors.group(1)) if errors else 0,
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


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--data", type=Path, default=REPO / "data/build/atlas.gpkg")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--duration", type=int, default=5)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--out", type=Path, default=REPO / "bench/results/api.json")
    args = p.parse_args()
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
    nginx = None
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
        for path in {c[1] for c in CASES}:  # warm the per-build cache once
            for gz in (False, True):
                fetch(base + path.format(project=project), gz)
        rows = []
        for name, path, gz in CASES:
            url = base + path.format(project=project)
            size = len(fetch(url, gz))
            a = wrk(url, gz, args.duration, args.rounds)
            n = wrk(f"http://127.0.0.1:{nport}/{static[path]}", gz, args.duration, args.rounds)
            rows.append({"case": name, "gzip": gz, "bytes": size, "atlas": a, "nginx": n,
                         "nginx_over_atlas": round(n["median_rps"] / a["median_rps"], 2)})
            print(f"{name:28} gzip={gz!s:5} {size:>9} B  atlas {a['median_rps']:>9.0f} req/s  "
                  f"nginx {n['median_rps']:>9.0f} req/s", flush=True)
        result = {"when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "machine": machine(),
                  "settings": {"workers": args.workers, "wrk": "-t2 -c16", "duration_s": args.duration,
                               "rounds": args.rounds, "statistic": "median req/s"},
                  "cases": rows}
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n")
        print("\n| case | gzip | bytes | atlas req/s | nginx req/s | nginx/atlas |")
        print("|---|---|---|---|---|---|")
        for r in rows:
            print(f"| {r['case']} | {'yes' if r['gzip'] else 'no'} | {r['bytes']} | "
                  f"{r['atlas']['median_rps']:.0f} | {r['nginx']['median_rps']:.0f} | "
                  f"{r['nginx_over_atlas']} |")
    finally:
        for proc in (atlas, nginx):
            if proc is not None:
                proc.terminate()
                proc.wait(timeout=15)
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
