"""What the map pages are made with, without an app: JSON safe inside a script element,
search terms and abbreviations, figure units, the vendored base-map subset
(tests/web/test_maps.py checks the pages themselves)."""

from __future__ import annotations

import json

import pytest

from layers import search
from server.maps import page as mapview
from server.view import popups


def test_json_for_script_cannot_close_the_element():
    text = mapview.json_for_script({"a": "</script><script>alert(1)</script><!--"})
    assert "</" not in text and "<!--" not in text
    assert json.loads(text)["a"] == "</script><script>alert(1)</script><!--"


@pytest.mark.parametrize("name, short", [
    ("武汉经济技术开发区", "武汉经开"), ("武汉经济技术开发区", "武汉经开区"),
    ("武汉东湖新技术开发区", "武汉东湖高新区"), ("湖北青山经济开发区", "青山经开区"),
    ("咸宁市经济技术开发区", "咸宁经开区"),
])
def test_abbreviations(name, short):
    assert short in search.abbreviations(name)


def test_search_terms_include_pinyin_and_aliases():
    terms = search.terms("武汉经济技术开发区", "Wuhan ETDZ", ["武汉经济开发区"])
    assert "wuhanjingjijishukaifaqu" in terms and "whjjjskfq" in terms
    assert "武汉经济开发区" in terms and "wuhanetdz" in terms and "武汉经开" in terms


def test_vendor_subset_keeps_features_touching_the_area():
    import importlib.util

    from tests.conftest import REPO

    spec = importlib.util.spec_from_file_location("vendor_assets", REPO / "tools" / "vendor_assets.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    fc = {"features": [
        {"properties": {"name": "Han", "x": 1}, "geometry": {"type": "LineString",
                                                             "coordinates": [[100, 20], [114, 30.5]]}},
        {"properties": {}, "geometry": {"type": "LineString", "coordinates": [[0, 0], [1, 1]]}},
    ]}
    out = mod.subset(fc)
    assert [f["properties"] for f in out["features"]] == [{"name": "Han"}]


def test_figure_units_are_appended_only_to_a_bare_number():
    html = popups.Popups({}, "zh", lambda *_: [], {}, {}).figures([
        {"metric_zh": "A", "value_text": "实现规模工业总产值2000", "unit": "亿元"},
        {"metric_zh": "B", "value_text": "过 10 亿元工业企业 30 家", "unit": "家"},
        {"metric_zh": "C", "value_text": "<x>", "defect": {"text": "<x>", "reading": "1<2",
                                                            "note": "<script>"}},
    ])
    assert "<b>实现规模工业总产值2000亿元</b>" in html and "<b>过 10 亿元工业企业 30 家</b>" in html
    assert "<b>1&lt;2</b>" in html and "「&lt;x&gt;」: &lt;script&gt;" in html and "<script>" not in html


@pytest.mark.parametrize("name, reading", [("长阳土家族自治县", "changyang"), ("曾都区", "zengdu"),
                                           ("黄陂区", "huangpi"), ("硚口区", "qiaokou")])
def test_place_names_are_read_as_places(name, reading):
    assert any(t.startswith(reading) for t in search.terms(name, None))
