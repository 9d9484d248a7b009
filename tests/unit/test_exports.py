"""Maps for briefings without an app: the batch export as `atlas export` runs it, and the
largest page allowed (tests/web/test_exports.py fetches the exports from the app)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from server.view.params import View


def _export(atlas, out, per: str, fmt: str) -> subprocess.CompletedProcess:
    """`atlas export` as a user runs it; it must succeed."""
    r = subprocess.run([sys.executable, "-m", "server.cli", "export", "--per", per, "--format", fmt,
                        "--out", str(out), "--data", str(atlas)],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    return r

@pytest.mark.slow
def test_batch_writes_one_file_per_hubei_city_and_an_index(built_atlas, tmp_path):
    import csv

    out = tmp_path / "maps"
    r = _export(built_atlas, out, "city", "png")
    with open(out / "index.csv", encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 17
    assert {p.name for p in out.glob("*.png")} == {row["file"] for row in rows}
    assert "17/17" in r.stderr  # the progress bar reached the end
    assert {row["name_zh"] for row in rows} >= {"武汉市", "恩施土家族苗族自治州", "神农架林区"}


@pytest.mark.slow
def test_batch_of_the_province_is_one_file_and_its_deck_is_every_cluster(built_atlas, tmp_path):
    from server.exports.batch import view_for

    out = tmp_path / "province"
    _export(built_atlas, out, "province", "png")
    assert [p.name for p in out.glob("*.png")] == ["province_420000.png"]
    # the deck of the province is the long one, too long for a web request: every cluster
    assert view_for("province", "pptx", 420000, "zh").scope == "all"
    assert view_for("province", "png", 420000, "zh") == View(dpi=200)
    assert view_for("city", "pptx", 420100, "en") == View(city=420100, lang="en", dpi=150)


def test_batch_refuses_an_unwritable_folder(built_atlas, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    r = subprocess.run([sys.executable, "-m", "server.cli", "export", "--per", "cluster", "--format",
                        "pdf", "--out", str(blocker / "x"), "--data", str(built_atlas)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 1 and "atlas export: error: cannot write" in r.stderr
    assert "Traceback" not in r.stderr


def test_the_largest_allowed_page_is_bounded():
    w, h = View(paper="A4", dpi=600).pixels
    assert (w, h) == (7015, 4960) and w * h < 40e6
