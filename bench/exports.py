"""Benchmark: map exports for briefings, against the way planners got a map before.

Side by side in one run, on the same build:

- the atlas's print maps (`server.exports.printmap.render`, no cache): the province (default view)
  as PNG at 200 dpi, PDF and SVG on A4; the automobile corridor; Wuhan; a 16:9 slide;
- the offline HTML file (default view, corridor) and the briefing deck for the corridor;
- the peer: headless Chromium (Debian's) opening the interactive map on the real server,
  waiting for it to draw and taking a screenshot of the same pixel size as the 200 dpi A4
  PNG — the hand-made screenshot, minus the hand, and without title, legend or scale;
- a repeated request to `/export/map.png` (served from the per-build render cache).

Reports medians and the ratio of the peer's time to the atlas's PNG time, and writes JSON
with the machine description to bench/results/exports.json. Absolute times on these
machines are noisy; the ratio much less so.

    .venv/bin/python bench/exports.py [--data data/build/atlas.gpkg] [--repeats 5]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from local_server import atlas_server  # noqa: E402

from layers.build import DEFAULT_OUT  # noqa: E402
from server.exports import deck, offline, printmap  # noqa: E402
from server.store import AtlasStore  # noqa: E402
from server.view.params import View  # noqa: E402

CORRIDOR = "c001-han-xiao-sui-xiang-shi-auto-corridor"
CHROMIUM = "/usr/bin/chromium"


def machine() -> dict:
    cpu = ""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        models = [line.split(":", 1)[1].strip() for line in cpuinfo.read_text().splitlines()
                  if line.startswith("model name")]
        cpu = models[0] if models else ""
    return {"cpus": os.cpu_count(), "cpu": cpu, "python": platform.python_version(),
            "platform": platform.platform()}


def timed(fn, repeats: int) -> tuple[float, int]:
    times, size = [], 0
    fn()  # warm: fonts registered, layers loaded, hydro read
    for _ in range(repeats):
        t = time.perf_counter()
        size = len(fn())
        times.append(time.perf_counter() - t)
    return statistics.median(times), size


def peer_screenshot(data: Path, repeats: int, size: tuple[int, int]) -> float:
    """Median seconds for Chromium to open `/`, draw it and screenshot it at `size`."""
    from playwright.sync_api import sync_playwright

    with atlas_server(data) as base:
        times = []
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM,
                                        args=["--no-sandbox", "--disable-gpu"])
            for i in range(repeats + 1):
                page = browser.new_page(viewport={"width": size[0], "height": size[1]})
                t = time.perf_counter()
                page.goto(base + "/")
                page.wait_for_selector("body[data-ready='1']", state="attached", timeout=60000)
                page.screenshot(type="png")
                if i:  # the first run warms the server's caches and the browser
                    times.append(time.perf_counter() - t)
                page.close()
            browser.close()
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "exports.json")
    args = parser.parse_args()
    store = AtlasStore(args.data)
    province = View()
    runs = {
        "province PNG, A4, 200 dpi": lambda: printmap.render(store, province, "png"),
        "province PDF, A4": lambda: printmap.render(store, province, "pdf"),
        "province SVG, A4": lambda: printmap.render(store, province, "svg"),
        "corridor PNG, A4, 200 dpi": lambda: printmap.render(store, View(cluster=CORRIDOR), "png"),
        "Wuhan PNG, A4, 200 dpi": lambda: printmap.render(store, View(city=420100), "png"),
        "province PNG, 16:9, 150 dpi": lambda: printmap.render(
            store, View(paper="16:9", dpi=150), "png"),
        "offline HTML, default view": lambda: offline.render(store, province),
        "offline HTML, corridor": lambda: offline.render(store, View(cluster=CORRIDOR)),
        "deck PPTX, corridor": lambda: deck.build_deck(store, View(cluster=CORRIDOR, dpi=150)),
    }
    print(f"median of {args.repeats} runs after one warm-up; {machine()['cpus']} cores")
    results = {}
    for name, fn in runs.items():
        seconds, size = timed(fn, args.repeats)
        results[name] = {"seconds": round(seconds, 3), "bytes": size}
        print(f"  {name:32s} {seconds * 1000:8.0f} ms  {size / 1e6:6.2f} MB")
    px = province.pixels
    peer = peer_screenshot(args.data, args.repeats, px)
    ours = results["province PNG, A4, 200 dpi"]["seconds"]
    results["peer: Chromium screenshot of / at the same size"] = {"seconds": round(peer, 3)}
    print(f"  {'peer: Chromium screenshot of /':32s} {peer * 1000:8.0f} ms  ({px[0]}×{px[1]} px, "
          f"no title, legend, scale or sources)")
    print(f"  ratio peer / atlas PNG: ×{peer / ours:.1f}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"machine": machine(), "repeats": args.repeats, "results": results,
                                    "ratio_peer_over_png": round(peer / ours, 2)}, indent=2,
                                   ensure_ascii=False))
    print(f"wrote {args.out.relative_to(REPO)}")


if __name__ == "__main__":
    main()
