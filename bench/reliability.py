"""Benchmark: the atlas under hostile load, with nginx in front (`atlas serve`'s default when
nginx is installed) against the peer, the same server without it (`--front none`: gunicorn
alone, as it served before), side by side in one run on the same build.

1. Health under siege: 50 clients dribbling their headers a byte every half second and 20
   distinct uncached exports asked at once, while a probe asks /healthz and one API item in
   turn: each probe's time (p50, p99, max; a probe that takes 5 s counts as failed).
2. 8 identical uncached exports at once: their wall time against one render's, and how many
   answered 200 (one render, shared) or 503 (no slot).
3. Soak: 20,000 distinct API URLs under 2 kB Hosts; each worker's RSS after, against the
   response cache's bound.

Writes bench/results/reliability.json with the machine description.

    .venv/bin/python bench/reliability.py [--data data/build/atlas.gpkg] [--soak 20000]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from local_server import atlas_process  # noqa: E402

from layers.build import DEFAULT_OUT  # noqa: E402
from tests.support.slowclient import dribble  # noqa: E402

CITIES = [420100, 420200, 420300, 420500, 420600, 420700, 420800, 420900, 421000, 421100,
          421200, 421300, 422800]
LONG_HOST = ("h" * 60 + ".") * 33 + "example.org"


def get(url: str, timeout: float = 5, host: str | None = None) -> tuple[int, float]:
    request = urllib.request.Request(url, headers={"Host": host} if host else {})
    start = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            response.read()
            status = response.status
    except urllib.error.HTTPError as exc:
        status = exc.code
    except OSError:
        status = 0  # timed out or refused
    return status, time.monotonic() - start


def siege(base: str, tag: str) -> dict:
    stop = threading.Event()
    slow = [threading.Thread(target=dribble, args=(base, stop), daemon=True) for _ in range(50)]
    for t in slow:
        t.start()
    time.sleep(2)
    exports = [f"{base}/export/map.png?city={c}&dpi=100&title=siege-{tag}-{i}"
               for i, c in enumerate((CITIES * 2)[:20])]
    pool = ThreadPoolExecutor(20)
    pending = [pool.submit(get, url, 120) for url in exports]
    took, failed = [], 0
    for i in range(100):
        url = f"{base}/healthz" if i % 2 else f"{base}/api/collections/projects/items?limit=1&offset={i}"
        status, seconds = get(url)
        if status != 200:
            failed += 1
            seconds = 5.0
        took.append(seconds)
        if failed == 10 and i < 99:  # the server is stuck: the rest would time out alike
            failed += 99 - i
            took += [5.0] * (99 - i)
            break
    export_status = [f.result()[0] for f in pending]
    stop.set()
    pool.shutdown()
    took.sort()
    return {"probes": len(took), "failed": failed,
            "p50_ms": round(statistics.median(took) * 1000, 1),
            "p99_ms": round(took[int(len(took) * 0.99) - 1] * 1000, 1),
            "max_ms": round(took[-1] * 1000, 1),
            "exports_200": export_status.count(200), "exports_503": export_status.count(503)}


def identical(base: str, tag: str) -> dict:
    one = f"{base}/export/map.png?city=420100&dpi=150&title=alone-{tag}"
    _, alone = get(one, 120)
    url = f"{base}/export/map.png?city=420100&dpi=150&title=eight-{tag}"
    start = time.monotonic()
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: get(url, 120), range(8)))
    wall = time.monotonic() - start
    return {"one_render_s": round(alone, 2), "eight_at_once_s": round(wall, 2),
            "ratio": round(wall / alone, 2),
            "answered_200": sum(1 for s, _ in answers if s == 200)}


def worker_rss(proc_pid: int) -> list[int]:
    """RSS (kB) of the gunicorn workers: the Python children of the serve process."""
    out = []
    for child in Path(f"/proc/{proc_pid}/task/{proc_pid}/children").read_text().split():
        status = Path(f"/proc/{child}/status").read_text()
        if "python" not in Path(f"/proc/{child}/cmdline").read_bytes().decode(errors="replace"):
            continue
        out.append(int(next(ln.split()[1] for ln in status.splitlines() if ln.startswith("VmRSS"))))
    return out


def soak(base: str, pid: int, n: int) -> dict:
    before = worker_rss(pid)
    urls = [f"{base}/api/collections/cities/items?limit=1&offset={i}" for i in range(n)]
    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(lambda u: get(u, 30, LONG_HOST)[0], urls))
    after = worker_rss(pid)
    return {"urls": n, "answered_200": statuses.count(200), "rss_before_kb": before,
            "rss_after_kb": after, "grown_mb": [round((a - b) / 1024, 1) for a, b in zip(after, before)]}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--soak", type=int, default=20000)
    args = parser.parse_args()
    bound_mb = 16
    env_bound = str(bound_mb * 1024 * 1024)
    results: dict = {"machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                                 "platform": platform.platform()},
                     "response_cache_mb_per_worker": bound_mb}
    os.environ["ATLAS_RESPONSE_CACHE_BYTES"] = env_bound
    for name, front in (("atlas", "auto"), ("peer (no front)", "none")):
        with atlas_process(args.data, REPO, "--front", front) as (base, proc):
            tag = front
            row = {"siege": siege(base, tag), "identical": identical(base, tag),
                   "soak": soak(base, proc.pid, args.soak)}
        results[name] = row
        print(name, json.dumps(row, ensure_ascii=False), flush=True)
    out = REPO / "bench" / "results" / "reliability.json"
    out.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    print(f"wrote {out.relative_to(REPO)}")


if __name__ == "__main__":
    main()
