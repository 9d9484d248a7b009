"""One parser, one View without an app (server/view/params.py); tests/web/test_view.py holds
every surface to the parameter table."""

from __future__ import annotations

from server.view.params import EXPORT, MAP, known_values, parse_view

COUNTY_CLUSTER = "c001-guangshui-fans"  # one member, the county-level city of Guangshui
XIANNING = 421200


def test_one_parser_one_view():
    class Store:  # what known_values reads, as small as it can be
        meta = {"sectors": [{"code": "auto"}], "built_at": "x"}

        def snapshot(self):
            return self

        def layer(self, lid):
            import pandas as pd

            return {"cities": pd.DataFrame({"adcode": [XIANNING]}),
                    "clusters": pd.DataFrame({"id": [COUNTY_CLUSTER]}),
                    "parks": pd.DataFrame({"kind": ["base", None]})}[lid]

    known = known_values(Store())
    args = {"city": [str(XIANNING)], "sector": ["auto"], "lang": ["en"], "measure": ["sector:auto"]}
    on_map, on_paper = parse_view(args, MAP, known), parse_view(args, EXPORT, known)
    assert on_map.key() == on_paper.key()  # one View, whichever surface read it
    assert parse_view({"cluster": [COUNTY_CLUSTER]}, MAP, known, embed=True).page == "cluster"
    assert on_paper.center is None and on_paper.zoom is None  # the city frames the export
