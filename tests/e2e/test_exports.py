"""Maps for briefings in the programs a planner opens them with: the offline HTML map in
headless Chromium, the deck rendered by LibreOffice (tests/web/test_exports.py checks what
the app exports)."""

from __future__ import annotations

import shutil
import subprocess

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
        self.page.evaluate("([at, z]) => { const m = AtlasMap.map(); m.closePopup();"
                           " m.setView(at, z, { animate: false }); }", [xy, zoom])
        self.page.wait_for_timeout(20)  # markercluster regroups after the move
        box = self.page.locator(".folium-map").bounding_box()
        self.page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)

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


@pytest.mark.slow
def test_deck_renders_in_libreoffice_with_one_page_per_slide(client, tmp_path):
    from pypdf import PdfReader

    from server.exports.deck import slide_count

    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    assert soffice, "LibreOffice (Debian libreoffice-impress) is installed by make test"
    data = client.get(f"/export/briefing.pptx?cluster={CORRIDOR}").data
    deck = tmp_path / "deck.pptx"
    deck.write_bytes(data)
    subprocess.run([soffice, "--headless", f"-env:UserInstallation=file://{tmp_path}/lo",
                    "--convert-to", "pdf", "--outdir", str(tmp_path), str(deck)],
                   check=True, capture_output=True, timeout=180)
    pdf = PdfReader(tmp_path / "deck.pdf")
    assert len(pdf.pages) == slide_count(data) == 4
    assert "千里汽车产业走廊" in pdf.pages[2].extract_text()
