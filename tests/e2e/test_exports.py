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

from tests.conftest import ARTIFACTS

CORRIDOR = "c001-han-xiao-sui-xiang-shi-auto-corridor"  # 汉孝随襄十, as in tests/web/test_exports.py


class OfflinePage:
    """An offline HTML map opened from a file in Chromium, every request off the file refused."""

    def __init__(self, browser, path):
        self.outside: list[str] = []
        self.errors: list[str] = []
        self.page = browser.new_page(viewport={"width": 1280, "height": 800})
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.route("**/*", lambda r: r.continue_() if r.request.url.startswith("file:")
                        else (self.outside.append(r.request.url), r.abort()))
        self.page.goto(path.as_uri())
        self.page.wait_for_selector("body[data-ready='1']", state="attached")

    def features(self) -> list[dict]:
        """Every park and project the file carries: layer, id, name, [lat, lon]."""
        return self.page.evaluate("""() => JSON.parse(document.getElementById('atlx-data').textContent)
            .layers.filter(l => l.id === 'parks' || l.id === 'projects')
            .flatMap(l => l.features.map(f => ({layer: l.id, id: String(f.id), name: f.name, xy: f.xy})))""")

    def click_at(self, xy: list[float], zoom: int) -> None:
        """The point `xy` in the middle of the map at `zoom`, clicked with the mouse."""
        for settle in (20, 250, 1000):  # markercluster regroups after the move: longer on a busy machine
            self.page.evaluate("([at, z]) => { const m = AtlasMap.map(); m.closePopup();"
                               " m.setView(at, z, { animate: false }); }", [xy, zoom])
            self.page.wait_for_timeout(settle)
            box = self.page.locator(".folium-map").bounding_box()
            self.page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
            try:
                self.page.wait_for_function("() => [...document.querySelectorAll('.leaflet-popup')]"
                                            ".some(e => e.style.opacity !== '0')", timeout=2000)
                return
            except Exception:  # noqa: BLE001  (playwright's TimeoutError): the click met no marker yet
                continue

    def close(self):
        assert self.outside == [] and self.errors == [], (self.outside, self.errors)
        self.page.close()


@pytest.mark.slow
def test_html_opens_offline_and_shows_popups_with_sources(client, browser, tmp_path):
    path = tmp_path / "corridor.html"
    path.write_bytes(client.get(f"/export/map.html?cluster={CORRIDOR}").data)
    p = OfflinePage(browser, path)
    page = p.page
    assert page.locator("path.leaflet-interactive").count() > 10
    assert page.locator(".leaflet-control-layers-overlays label").count() >= 4
    assert page.locator(".atl-badge").count() == 5  # the corridor's members, numbered
    page.locator(".atl-mk.atl-hollow").first.dispatch_event("click")  # known to its county only
    popup = page.wait_for_selector(".leaflet-popup-content")
    assert "来源" in popup.inner_text()
    page.screenshot(path=str(ARTIFACTS / "export-offline-corridor.png"))
    p.close()


@pytest.mark.slow
def test_every_feature_of_wuhans_offline_map_opens_by_clicking(client, browser, tmp_path):
    """Wuhan's parks and projects, most known only to the city or a district and drawn at its
    point, each open by clicks: a point alone opens its popup; a circle lists what it holds
    (once each, as many as its count) and each entry opens that feature's popup, its name as
    the title. At the start every feature is counted in a circle or drawn alone, and the city
    and its districts are labelled."""
    path = tmp_path / "wuhan.html"
    path.write_bytes(client.get("/export/map.html?city=420100").data)
    p = OfflinePage(browser, path)
    page = p.page
    feats = p.features()
    key = {(f["layer"], f["id"]): f for f in feats}
    assert len(key) == len(feats) >= 72
    counted = sum(int(t) for t in page.locator(".leaflet-marker-pane .atlx-stack").all_inner_texts())
    assert counted + page.locator(".leaflet-marker-pane .atl-mk").count() == len(feats)
    labels = page.locator(".atl-city-label").all_inner_texts()
    assert "武汉市" in labels and "江夏区" in labels
    page.screenshot(path=str(ARTIFACTS / "export-offline-wuhan.png"))

    opened: dict[tuple[str, str], int] = {}
    max_zoom = page.evaluate("AtlasMap.map().getMaxZoom()")
    # the newest popup (the one closed fades out for a moment): its list's entries, or its title
    shown = """() => { const p = [...document.querySelectorAll('.leaflet-popup')]
        .filter(e => e.style.opacity !== '0').pop(); if (!p) return null;
        const links = [...p.querySelectorAll('.atl-list li a')];
        return {entries: links.map(a => [a.dataset.layer, a.dataset.id, a.textContent]),
                title: p.querySelector('.atl-title').textContent, opened: AtlasMap.opened}; }"""
    circle_at_centre = """() => [...document.querySelectorAll('.leaflet-marker-pane .atlx-stack')]
        .map(e => { const r = e.getBoundingClientRect(), m = document.querySelector('.folium-map')
        .getBoundingClientRect(); return [Math.hypot(r.x + r.width / 2 - m.x - m.width / 2,
        r.y + r.height / 2 - m.y - m.height / 2), Number(e.textContent)]; })
        .sort((a, b) => a[0] - b[0])[0][1]"""
    for xy in sorted({tuple(f["xy"]) for f in feats}):
        if all(opened.get((f["layer"], f["id"])) for f in feats if tuple(f["xy"]) == xy):
            continue  # reached already, in the list of a circle nearby
        p.click_at(list(xy), max_zoom)
        now = page.evaluate(shown)
        if not now["entries"]:  # a point alone: its own popup
            lid, fid = now["opened"].split(":", 1)
            assert now["title"] == key[(lid, fid)]["name"]
            opened[(lid, fid)] = opened.get((lid, fid), 0) + 1
            continue
        entries = [tuple(e) for e in now["entries"]]
        assert len(set(entries)) == len(entries) > 1
        assert page.evaluate(circle_at_centre) == len(entries)  # the count drawn is what it lists
        for n, (lid, fid, name) in enumerate(entries):
            if n:
                p.click_at(list(xy), max_zoom)  # the list again: an entry's popup replaced it
            entry = page.locator(".leaflet-popup:not([style*='opacity: 0']) .atl-list li a").nth(n)
            entry.dispatch_event("click")
            now = page.evaluate(shown)
            assert now["title"] == name == key[(lid, fid)]["name"] and now["opened"] == f"{lid}:{fid}"
            opened[(lid, fid)] = opened.get((lid, fid), 0) + 1
    assert set(opened) == set(key)
    p.close()


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
