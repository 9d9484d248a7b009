"""Strings a user types that the renderers could take for markup (issue 22): drawn as typed.
The rest of the hostile-input tests are beside the surface they hit (test_http, test_api,
test_documents, test_fuzz)."""

from __future__ import annotations

import io
from urllib.parse import quote

import pytest

TITLES = [r"$\foo$", "Cost $5 and $6", r"a_b^c \alpha $x_1^2$", "$", r"\\", "^_^"]


@pytest.mark.parametrize("title", TITLES)
def test_a_title_is_drawn_as_typed_not_as_a_formula(client, title):
    from pypdf import PdfReader

    response = client.get(f"/export/map.pdf?city=420100&dpi=72&title={quote(title)}")
    assert response.status_code == 200, response.get_data(as_text=True)[:200]
    text = PdfReader(io.BytesIO(response.data)).pages[0].extract_text()
    assert title in text.replace("\n", " ")


@pytest.mark.parametrize("fmt", ["png", "svg"])
def test_a_title_that_would_be_a_bad_formula_is_drawn_in_every_format(client, fmt):
    response = client.get(f"/export/map.{fmt}?city=420100&dpi=72&title={quote(TITLES[0])}")
    assert response.status_code == 200 and response.mimetype.startswith("image/")


@pytest.mark.parametrize("url", [
    "/api/collections/projects/items?q=a%00b",
    "/api/collections/projects/items?sector=auto%00",
    "/api/collections/projects/items/P%00",
    "/api/collections/projects/items?x%00=1",
    "/download/parks.csv?q=%00",
    "/tiles/cities/6/52/26.mvt?datum=wgs84%00",
    "/?city=420100%00",
    "/export/map.png?title=a%00b",
    "/documents/001?line=3%00",
])
def test_a_nul_byte_anywhere_is_a_400_with_a_json_message(client, url):
    response = client.get(url)
    assert response.status_code == 400, (url, response.status_code)
    assert "NUL" in response.get_json()["description"]


def test_identical_exports_at_once_share_one_render_and_a_full_pool_answers_503(app, monkeypatch):
    """Eight people open the same briefing map at once: one render. While the process's render
    slots are all taken, another view is told at once to come back (503, Retry-After)."""
    import threading
    import time
    from concurrent.futures import ThreadPoolExecutor

    from server.exports import printmap, routes

    gate, calls = threading.Event(), []

    def slow_render(store, view, fmt, approval=""):
        calls.append(view.city)
        gate.wait(10)
        return b"\x89PNG drawn"

    monkeypatch.setattr(printmap, "render", slow_render)
    monkeypatch.setattr(routes, "RENDERS", routes.Renders())
    monkeypatch.setitem(app.config, "EXPORT_SLOTS", 1)

    def get(url):
        return app.test_client().get(url)

    with ThreadPoolExecutor(8) as pool:
        same = [pool.submit(get, "/export/map.png?city=420100&dpi=72") for _ in range(8)]
        while not calls:
            time.sleep(0.005)
        other = get("/export/map.png?city=421200&dpi=72")
        assert other.status_code == 503 and int(other.headers["Retry-After"]) > 0
        assert other.get_json()["code"] == "ServiceUnavailable"
        gate.set()
        answers = [f.result(20) for f in same]
    assert [a.status_code for a in answers] == [200] * 8
    assert {a.data for a in answers} == {b"\x89PNG drawn"} and len(calls) == 1
