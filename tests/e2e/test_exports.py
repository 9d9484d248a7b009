"""Maps for briefings in the programs a planner opens them with: the offline HTML map in
headless Chromium, the deck rendered by LibreOffice (tests/web/test_exports.py checks what
the app exports)."""

from __future__ import annotations

import html
import io
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from layers import style
from tests.conftest import ARTIFACTS

CORRIDOR = "c001-han-xiao-sui-xiang-shi-auto-corridor"  # 汉孝随襄十, as in tests/web/test_exports.py


@pytest.mark.slow
def test_html_opens_offline_and_shows_popups_with_sources(client, browser, tmp_path):
    path = tmp_path / "corridor.html"
    path.write_bytes(client.get(f"/export/map.html?cluster={CORRIDOR}").data)
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    outside, errors = [], []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.route("**/*", lambda r: r.continue_() if r.request.url.startswith("file:")
               else (outside.append(r.request.url), r.abort()))
    page.goto(path.as_uri())
    page.wait_for_selector("path.leaflet-interactive", state="attached")
    assert page.locator("path.leaflet-interactive").count() > 10
    assert page.locator(".leaflet-control-layers-overlays label").count() >= 4
    hollow = " ".join(f"{d:g}" for d in style.HOLLOW.dash)  # a point known to its county only
    page.locator(f"path.leaflet-interactive[stroke-dasharray='{hollow}']").last.dispatch_event("click")
    popup = page.wait_for_selector(".leaflet-popup-content")
    assert "来源" in popup.inner_text()
    page.screenshot(path=str(ARTIFACTS / "export-offline-corridor.png"))
    assert outside == [] and errors == []
    page.close()


DECKS = {"wuhan": "city=420100", "xianning": "city=421200", "corridor": f"cluster={CORRIDOR}",
         "guangshui": "cluster=c001-guangshui-fans"}  # a county cluster
EMU_PER_PT = 12700
WORD = re.compile(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">(.*?)</word>')


def _words(pdf: Path, page: int) -> list[tuple[float, float, float, float, str]]:
    """The words of one PDF page with their boxes (points from the top left), by pdftotext."""
    out = subprocess.run(["pdftotext", "-f", str(page), "-l", str(page), "-bbox", str(pdf), "-"],
                         check=True, capture_output=True, text=True).stdout
    return [(float(a), float(b), float(c), float(d), html.unescape(w)) for a, b, c, d, w in WORD.findall(out)]


def _cell_text(words: list, box: tuple[float, float, float, float]) -> str:
    """The words whose centre lies in `box`, in reading order, joined without spaces."""
    x0, y0, x1, y1 = box
    inside = [w for w in words if x0 <= (w[0] + w[2]) / 2 <= x1 and y0 <= (w[1] + w[3]) / 2 <= y1]
    inside.sort(key=lambda w: (round((w[1] + w[3]) / 2 / 4), w[0]))  # line by line, left to right
    return "".join(w[4] for w in inside)


@pytest.mark.slow
def test_decks_render_in_libreoffice_with_every_cell_whole_inside_its_row(client, tmp_path):
    """Each table cell's text, read back from LibreOffice's PDF, lies whole inside the row the
    deck measured for it: a row too short would push its text into the next row or off the
    slide, or cut it."""
    from pptx import Presentation

    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    assert soffice, "LibreOffice (Debian libreoffice-impress) is installed by make test"
    decks = {}
    for name, query in DECKS.items():
        decks[name] = client.get(f"/export/briefing.pptx?{query}").data
        (tmp_path / f"{name}.pptx").write_bytes(decks[name])
    subprocess.run([soffice, "--headless", f"-env:UserInstallation=file://{tmp_path}/lo",
                    "--convert-to", "pdf", "--outdir", str(tmp_path),
                    *(str(tmp_path / f"{n}.pptx") for n in DECKS)],
                   check=True, capture_output=True, timeout=600)
    checked = 0
    for name, data in decks.items():
        prs = Presentation(io.BytesIO(data))
        pdf = tmp_path / f"{name}.pdf"
        info = subprocess.run(["pdfinfo", str(pdf)], check=True, capture_output=True, text=True).stdout
        assert re.search(r"Pages:\s+(\d+)", info).group(1) == str(len(prs.slides)), name  # type: ignore[union-attr]
        slide_h = (prs.slide_height or 0) / EMU_PER_PT
        for n, slide in enumerate(prs.slides, 1):
            shapes = [sh for sh in slide.shapes if sh.has_table]
            if not shapes:
                continue
            words = _words(pdf, n)
            sh = shapes[0]
            top = sh.top / EMU_PER_PT
            for row in sh.table.rows:
                bottom = top + row.height / EMU_PER_PT
                left = sh.left / EMU_PER_PT
                for cell, col in zip(row.cells, sh.table.columns):
                    right = left + col.width / EMU_PER_PT
                    want = re.sub(r"\s+", "", cell.text)
                    got = _cell_text(words, (left, top, right, bottom))
                    assert got == want, (name, n, cell.text, got)
                    checked += 1
                    left = right
                top = bottom
            assert top <= slide_h, (name, n)  # the table ends on its slide
    assert checked > 1000  # every cell of four decks (Wuhan alone has some 800)
    pdftoppm = shutil.which("pdftoppm")
    if pdftoppm:  # a look at the corridor's map slide and a table slide after a change
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        subprocess.run([pdftoppm, "-r", "50", "-f", "2", "-l", "3", "-png", str(tmp_path / "corridor.pdf"),
                        str(ARTIFACTS / "export-deck-corridor")], check=True)
