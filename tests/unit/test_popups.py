"""Popups and tooltips from the autoescaped templates in server/templates/popups/: a hostile
value in any field of any kind of feature shows as text, never as markup."""

from __future__ import annotations

from pathlib import Path

import pytest

from layers.registry import LAYERS
from server.view import popups

NASTY = "<img src=x onerror=alert(1)>"
QUOTE = "x' onmouseover='alert(2)"  # would leave a single-quoted attribute if not escaped
SHOWN = "&lt;img src=x onerror=alert(1)&gt;"
TEMPLATES = Path(popups.__file__).resolve().parent.parent / "templates" / "popups"


def hostile_row() -> dict:
    """A feature whose every text field, of every kind, is hostile."""
    source = {"doc": "d1", "line": 3, "to": 5, "quote": NASTY, "url": f"/doc/{QUOTE}"}
    return {
        "id": QUOTE, "name_zh": NASTY, "name_en": NASTY + "en", "kind": NASTY, "level": NASTY,
        "status": NASTY, "aliases": [NASTY], "designations": [NASTY], "enterprise": NASTY,
        "park": NASTY, "sectors": [NASTY], "industries_zh": [NASTY], "catalogue_code": NASTY,
        "zone_type_zh": NASTY, "approved": NASTY, "leading_industries_zh": [NASTY], "zones": [NASTY],
        "members": [420100, 420300], "ordered": True,
        "member_roles": [{"adcode": 420100, "role_zh": NASTY, "role_en": NASTY}],
        "projects": [{"name_zh": NASTY, "name_en": NASTY, "year": NASTY}],
        "roles": [{"text_zh": NASTY, "text_en": NASTY, "type": NASTY, "year": NASTY}],
        "figures": [{"metric_zh": NASTY, "metric_en": NASTY, "value_text": NASTY, "unit": NASTY,
                     "year": NASTY, "defect": {"text": "img", "reading": NASTY, "note": NASTY}}],
        "sources": [source] * 5, "catalogue": {"doc": "d1", "name_zh": NASTY, "code": NASTY, "seq": NASTY},
        "inferred": {NASTY: NASTY}, "note": NASTY, "named_in_documents": False,
    }


def make_popups(lang: str) -> popups.Popups:
    meta = {"documents": [{"doc": "d1", "title_zh": NASTY, "title_en": NASTY, "year": NASTY, "code": NASTY}],
            "sectors": []}
    names = {420100: {"name_zh": NASTY, "name_en": NASTY}, 420300: {"name_zh": "十堰市", "name_en": ""}}
    parks = {NASTY: {"name_zh": NASTY, "name_en": NASTY}}
    return popups.Popups(meta, lang, lambda *_: [(NASTY, f"/download/{QUOTE}")], names, parks, root="")


def assert_text_only(html: str) -> None:
    assert "<img" not in html and SHOWN in html
    assert "onmouseover='" not in html and "x&#39; onmouseover=&#39;alert(2)" in html


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("layer_id", list(LAYERS))
def test_every_popup_template_shows_hostile_values_as_text(layer_id, lang):
    html = make_popups(lang).popup(layer_id, hostile_row(), QUOTE, "city")
    assert_text_only(html)
    assert html.startswith("<div class='atl-pop'><div class='atl-title'>") and html.endswith("</div>")
    assert "\n" not in html  # one line, as the markup always was: no template whitespace
    if layer_id in ("clusters", "cluster_lines"):
        assert f"— {SHOWN}</li>" in html and "<ol>" in html


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_tooltips_and_the_popups_pieces_escape(lang):
    p, row = make_popups(lang), hostile_row()
    assert p.tooltip(NASTY, NASTY + "en", NASTY).count(SHOWN) == 3
    for html in (p.sources(row["sources"]), p.figures(row["figures"]), p.roles(row["roles"]),
                 p.as_projects(row["projects"]), p.inferred(row["inferred"]), p.catalogue(row["catalogue"]),
                 p.downloads("parks", QUOTE), *p.catalogue_rows(row)):
        assert "<img" not in html and SHOWN in html
    assert "target='_blank' rel='noopener'" in p.sources(row["sources"])


def test_every_popup_template_is_one_a_layer_uses():
    """A kind's template that no layer names would escape the test above."""
    used = set(popups.KIND_TEMPLATES.values()) | {"popups/tooltip.html", "popups/feature.html"}
    files = {f"popups/{f.name}" for f in TEMPLATES.glob("*.html") if not f.name.startswith("_")}
    assert files == used
