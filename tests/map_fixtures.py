"""A small atlas for the map tests: the real source records plus a script-injection park and
an ordered five-city corridor with two quoted roles (both quote seed 000, line 318)."""

from __future__ import annotations

import shutil
from pathlib import Path

from layers.build import build
from layers.sources import DEFAULT_SOURCES, default_seeds_dir

XSS = "<img src=x onerror=alert(1)>"
XSS_PARK = "zz-test-xss"
CORRIDOR = "zz-test-corridor"
CORRIDOR_MEMBERS = [420100, 420900, 421300, 420600, 420300]  # 武汉 孝感 随州 襄阳 十堰

FIXTURE_YAML = f"""
parks:
  - id: {XSS_PARK}
    name_zh: "{XSS}"
    name_en: "{XSS}"
    aliases: ["{XSS}"]
    kind: other
    city_adcode: 420300
    precision: city
    sectors: [auto]
    note: "{XSS}"
    sources:
      - {{doc: 000_165aea33ce99897c.txt, line: 318, quote: 中国商用车之都}}
clusters:
  - id: {CORRIDOR}
    name_zh: 测试汽车走廊
    name_en: Test automotive corridor
    kind: corridor
    ordered: true
    members:
      - {{adcode: 420100}}
      - {{adcode: 420900}}
      - adcode: 421300
        role_zh: 中国专用车之都
        role_en: China's special-purpose vehicle capital
        sources:
          - {{doc: 000_165aea33ce99897c.txt, line: 318, quote: 随州“中国专用车之都”}}
      - {{adcode: 420600}}
      - adcode: 420300
        role_zh: 中国商用车之都
        role_en: China's commercial vehicle capital
        sources:
          - {{doc: 000_165aea33ce99897c.txt, line: 318, quote: 十堰“中国商用车之都”}}
    sectors: [auto]
    sources:
      - {{doc: 000_165aea33ce99897c.txt, line: 318,
         quote: 支持十堰“中国商用车之都”和随州“中国专用车之都”建设}}
"""


def build_map_fixture(dest: Path) -> Path:
    """Copy data/sources into dest, add the fixture records, build; returns the GeoPackage."""
    sources = dest / "sources"
    shutil.copytree(DEFAULT_SOURCES, sources)
    (sources / "zz_map_test_fixture.yaml").write_text(FIXTURE_YAML, encoding="utf-8")
    out = dest / "atlas.gpkg"
    build(out, sources, default_seeds_dir())
    return out
