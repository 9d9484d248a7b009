"""The one rule for which city a unit belongs to (layers.admin.Units), on the real build."""

from __future__ import annotations

import pytest

from layers.admin import Units
from layers.registry import ADMIN_LAYERS


@pytest.mark.backends
def test_each_unit_belongs_to_the_city_the_division_codes_give(app):
    store = app.extensions["atlas_store"]
    units = Units({lid: store.layer(lid) for lid in ADMIN_LAYERS})
    assert units.city_of(420102) == 420100  # 江岸区 of 武汉市
    assert units.city_of(421221) == 421200  # 嘉鱼县 of 咸宁市
    assert units.city_of(420100) == 420100  # a city is its own
    assert units.city_of(429004) == 429004  # 仙桃市: administered by the province, its own city
    assert units.city_of(420000) == 420000  # the province
    assert units.city_of(999999) is None and units.city_of(None) is None
    assert units.get(420102)["name_zh"] == "江岸区"
