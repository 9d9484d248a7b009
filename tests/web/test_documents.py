"""The documents are part of the atlas: readable at /documents with the cited line
highlighted (tests/unit/test_documents.py checks the files and their sha256)."""

from __future__ import annotations

import re
from html import unescape

import pytest

from layers.sources import DEFAULT_DOCUMENTS


@pytest.mark.backends
def test_index_lists_the_documents_with_number_and_hash(client):
    html = client.get("/documents").get_data(as_text=True)
    assert "鄂经信规划〔2021〕203号" in html and "/documents/004" in html
    assert "dcba50ea5c182eba606c9a3d18e168443861ce2b6f54a09bda51d3be88f96f5a" in html


@pytest.mark.backends
def test_reader_numbers_every_line_and_highlights_the_cited_one(client):
    html = client.get("/documents/000?line=279").get_data(as_text=True)
    lines = (DEFAULT_DOCUMENTS / "000_165aea33ce99897c.txt").read_text(encoding="utf-8").split("\n")
    assert html.count("<li id=\"L") == len(lines)
    highlighted = re.findall(r'<li id="L(\d+)" class="hl">', html)
    assert highlighted == ["279"]
    assert 'data-first="279"' in html


@pytest.mark.backends
def test_reader_joins_a_range_of_lines(client):
    html = client.get("/documents/004?line=6063-6065").get_data(as_text=True)
    assert re.findall(r'<li id="L(\d+)" class="hl">', html) == ["6063", "6064", "6065"]
    assert "支持赤壁市重点发展纺织服装" in html.split('id="cited"')[1].split("</p>")[0]


@pytest.mark.parametrize("query", ["line=0", "line=abc", "line=5-2", "line=99999999", "line=1&line=2",
                                   "lines=3", "line=1%0a2", "line=1%0a", "line=2-3%0a", "line=%201"])
def test_reader_rejects_bad_lines_with_400_json(client, query):
    r = client.get(f"/documents/001?{query}")
    assert r.status_code == 400
    assert r.get_json()["code"] == "BadRequest"


def test_unknown_document_is_404(client):
    assert client.get("/documents/999").status_code == 404
    assert client.get("/documents/..%2Fetc").status_code == 404


@pytest.mark.backends
def test_every_citation_in_the_api_links_to_its_line_in_the_reader(client):
    feats = client.get("/api/collections/parks/items?limit=1000").get_json()["features"]
    cites = [s for f in feats for s in f["properties"]["sources"] or []]
    assert cites and all(s["url"] == f"/documents/{s['doc'][:3]}?line={s['line']}#L{s['line']}"
                         for s in cites if "to" not in s)
    for s in cites[:: max(1, len(cites) // 12)]:  # a sample: the reader highlights the quote's lines
        html = client.get(s["url"]).get_data(as_text=True)
        rows = [re.search(rf'<li id="L{n}" class="hl"><a[^>]*>\d+</a><span>(.*?)</span>', html)
                for n in range(s["line"], s.get("to", s["line"]) + 1)]
        assert all(rows), s
        text = "".join(unescape(r.group(1)).strip() for r in rows)  # a range is matched joined
        assert s["quote"] in text, s


@pytest.mark.backends
def test_map_popups_link_quotes_to_the_reader(client):
    html = client.get("/").get_data(as_text=True)
    assert "/documents/003?line=" in html
