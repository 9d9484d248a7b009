"""Benchmark: the atlas page `/` as a browser gets it — time to first full draw and weight.

Opens `/` in Debian's headless Chromium against `atlas serve` on a loopback port, with an empty
cache each time, and reports the median time from navigation to the page saying it has drawn
everything (`body[data-ready]`: data parsed, markers placed, province and city outlines
fetched and drawn), the page's HTML size raw and gzipped, and everything the default view
loads (HTML, scripts, styles, outlines, rivers), raw and as sent. Pass `--repo` to measure
another checkout (e.g. an older commit in a worktree) side by side in the same run:

    .venv/bin/python bench/mappage.py [--repo OTHER_CHECKOUT] [--runs 5]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from local_server import atlas_server

REPO = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"


def measure(repo: Path, runs: int) -> dict:
    from playwright.sync_api import sync_playwright

    data = Path(tempfile.mkdtemp()) / "atlas.gpkg"
    env = dict(os.environ, PYTHONPATH=str(repo))
    subprocess.run([sys.executable, "-m", "server.cli", "build", "--out", str(data)], cwd=repo, env=env,
                   check=True, capture_output=True)
    with atlas_server(data, repo) as base:
        html = urllib.request.urlopen(base + "/").read()
        times, raw, sent = [], 0, 0
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
            for i in range(runs + 1):
                ctx = browser.new_context(viewport={"width": 1400, "height": 900})  # empty cache
                page = ctx.new_page()
                sizes: list[tuple[int, int]] = []

                def on_response(r, sizes=sizes):
                    try:
                        body = r.body()
                    except Exception:
                        return
                    size = r.request.sizes()
                    sizes.append((len(body), size["responseBodySize"]))
                page.on("response", on_response)
                t = time.perf_counter()
                page.goto(base + "/")
                page.wait_for_selector("body[data-ready='1']", state="attached", timeout=60000)
                elapsed = time.perf_counter() - t
                page.wait_for_timeout(300)
                if i:  # the first run warms the server's per-build caches
                    times.append(elapsed)
                    raw, sent = sum(s[0] for s in sizes), sum(s[1] for s in sizes)
                ctx.close()
            browser.close()
        return {"first_full_draw_ms": round(statistics.median(times) * 1000),
                "html_kb": round(len(html) / 1024), "html_gzip_kb": round(len(gzip.compress(html, 6)) / 1024),
                "default_view_raw_kb": round(raw / 1024), "default_view_sent_kb": round(sent / 1024)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repo", type=Path, help="another checkout to measure side by side")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "mappage.json")
    args = ap.parse_args()
    results = {"this checkout": measure(REPO, args.runs)}
    if args.repo:
        results[f"other: {args.repo.name}"] = measure(args.repo.resolve(), args.runs)
    for name, r in results.items():
        print(f"{name:24s} first full draw {r['first_full_draw_ms']:5d} ms · HTML {r['html_kb']} KB "
              f"({r['html_gzip_kb']} KB gzip) · default view {r['default_view_raw_kb']} KB raw, "
              f"{r['default_view_sent_kb']} KB sent")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"runs": args.runs, "results": results}, indent=2))


if __name__ == "__main__":
    main()
