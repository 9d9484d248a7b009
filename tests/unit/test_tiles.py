"""Vector tiles without an app: the zoom at which a layer's simplified tiers are used, and
`atlas tiles` refusing what it cannot make (tests/web/test_tiles.py serves them)."""

from __future__ import annotations

from layers.registry import LAYERS
from server.store import mvt


def test_low_zooms_use_the_simplified_tiers():
    counties = LAYERS["counties"]
    assert [mvt.tier_for(counties, z) for z in (0, 7, 8, 9, 10, 14)] == \
        ["lo", "lo", "mid", "mid", None, None]
    assert mvt.tier_for(LAYERS["parks"], 0) is None


def test_atlas_tiles_refuses_unknown_layers_and_bad_zooms(built_atlas, tmp_path, capsys):
    from server.cli import main

    out = tmp_path / "x.pmtiles"
    assert main(["tiles", "--out", str(out), "--data", str(built_atlas), "--layers", "nope"]) == 1
    assert main(["tiles", "--out", str(out), "--data", str(built_atlas), "--maxzoom", "30"]) == 1
    assert "unknown layers" in capsys.readouterr().err
    assert not out.exists()
