"""Maps for briefings in the programs a planner opens them with: the offline HTML map in
headless Chromium, the deck rendered by LibreOffice (tests/web/test_exports.py checks what
the app exports)."""

from __future__ import annotations

import shutil
import subprocess

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
