"""`atlas export`: one file per cluster or per Hubei city, or one of the whole province (its
map; its deck: the corridor and every cluster, a few minutes' work that a web request should
not wait for), with the same renderers as the routes (server.printmap, server.deck), and an
index.csv of what was written."""

from __future__ import annotations

import csv
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from server.exports import deck, printmap
from server.view.export import HUBEI_ADCODE
from server.view.params import DEFAULT_DPI, View

INDEX_FIELDS = ("file", "kind", "id", "name_zh", "name_en", "format", "bytes", "seconds")


def targets(store, per: str) -> list[dict]:
    """The clusters, or Hubei's 17 prefecture-level units, in the atlas's order; or Hubei."""
    if per == "province":
        frame = store.layer("provinces")
        return [{"id": int(r["adcode"]), "name_zh": r["name_zh"], "name_en": r["name_en"]}
                for r in frame.drop(columns="geometry").to_dict("records")
                if int(r["adcode"]) == HUBEI_ADCODE]
    if per == "cluster":
        frame = store.layer("clusters")
        return [{"id": r["id"], "name_zh": r["name_zh"], "name_en": r["name_en"]}
                for r in frame.drop(columns="geometry").to_dict("records")]
    frame = store.layer("cities")
    return [{"id": int(r["adcode"]), "name_zh": r["name_zh"], "name_en": r["name_en"]}
            for r in frame.drop(columns="geometry").to_dict("records")
            if int(r.get("parent_adcode") or 0) == HUBEI_ADCODE]


def view_for(per: str, fmt: str, target: str | int, lang: str) -> View:
    """The view one file of the batch shows: a cluster's, a city's, or the province's — whose
    deck is the corridor and every cluster (`scope=all`)."""
    if per == "cluster":
        key: dict = {"cluster": target}
    elif per == "city":
        key = {"city": target}
    else:
        key = {"scope": "all"} if fmt == "pptx" else {}
    return View(lang=lang, dpi=deck.MAP_DPI if fmt == "pptx" else DEFAULT_DPI, **key)


def _progress(stream: TextIO) -> Callable[[int, int, str], None]:
    def show(done: int, total: int, label: str) -> None:
        width = 30
        filled = width * done // max(total, 1)
        line = f"[{'#' * filled}{'.' * (width - filled)}] {done}/{total} {label}"
        if stream.isatty():
            stream.write("\r" + line[:100].ljust(100) + ("\n" if done == total else ""))
        else:
            stream.write(line + "\n")
        stream.flush()
    return show


def export(store, per: str, fmt: str, out: Path, lang: str = "zh", approval: str = "",
           progress: Callable[[int, int, str], None] | None = None) -> list[dict]:
    """Write one file per target into `out`; returns the index rows (also in index.csv)."""
    out.mkdir(parents=True, exist_ok=True)
    items = targets(store, per)
    show = progress or _progress(sys.stderr)
    rows = []
    for i, item in enumerate(items):
        show(i, len(items), item["name_zh"] if lang == "zh" else item["name_en"])
        started = time.perf_counter()
        view = view_for(per, fmt, item["id"], lang)
        if fmt == "pptx":
            body = deck.build_deck(store, view, approval)
        else:
            body = printmap.render(store, view, fmt, approval)
        name = re.sub(r"[^A-Za-z0-9_-]+", "-", f"{per}_{item['id']}") + f".{fmt}"
        (out / name).write_bytes(body)
        rows.append({"file": name, "kind": per, "id": item["id"], "name_zh": item["name_zh"],
                     "name_en": item["name_en"], "format": fmt, "bytes": len(body),
                     "seconds": round(time.perf_counter() - started, 2)})
    show(len(items), len(items), "index.csv")
    with open(out / "index.csv", "w", newline="", encoding="utf-8-sig") as fh:
        writer = csv.DictWriter(fh, fieldnames=INDEX_FIELDS)
        writer.writeheader()
        writer.writerows(rows)
    return rows
