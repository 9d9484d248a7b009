"""Every word the atlas shows, in both languages, and the one way to look each up.

Sections, by where the words appear: popup labels, the live map's chrome (also sent to
static/atlas/*.js by `ui_strings`), the layer control's groups, print pages, slide decks,
offline files, the source line; then the enum labels (kinds, levels, statuses, precisions,
role types, figure statuses). A key is one word everywhere: `say(key, lang, **fmt)` finds it
in whichever section holds it, and no key is in two sections. `label(TABLE, value, lang)`
names an enum value."""

from __future__ import annotations

from typing import Any

LANGS = ("zh", "en")

Words = dict[str, tuple[str, str]]  # key -> (zh, en)

POPUP = {  # popup and tooltip labels (server/view/popups.py)
    "status": ("状态", "Status"),  # "kind" and "level" are in UI
    "sectors": ("行业", "Industries"), "industries": ("原文产业表述", "In the document's words"),
    "roles": ("定位", "Roles"), "figures": ("目标与数据", "Targets and figures"),
    "sources": ("来源", "Sources"), "precision": ("定位精度", "Location precision"),
    "download": ("下载", "Download"),
    "members_in_order": ("成员（按原文顺序）", "Members (in the document's order)"),
    "inferred": ("推断（原文未明说）", "Inferred (not stated in the source)"),
    "designations": ("称号", "Designations"), "note": ("说明", "Note"),
    "aliases": ("别称", "Also called"), "park": ("所在园区", "Park"),
    "enterprise": ("企业", "Enterprise"), "n_parks": ("园区", "Parks"), "n_projects": ("项目", "Projects"),
    "more": ("另有 {n} 条", "{n} more"), "line": ("第 {n} 行", "line {n}"),
    "groups": ("所属集群", "Clusters"),
    "as_projects": ("文件也将其列为重点项目", "Also listed as a project in the documents"),
    "open_cluster": ("打开集群视图（成员、定位、园区与项目）",
                     "Open the cluster view (members, roles, parks, projects)"),
    "catalogue_code": ("开发区目录代码", "Catalogue code"), "approved": ("批准时间", "Approved"),
    "area_ha": ("核准面积", "Approved area"), "zone_type": ("目录类型", "Catalogue type"),
    "leading": ("主导产业（目录）", "Leading industries (catalogue)"),
    "catalogue": ("来源：国家开发区目录", "Source: national catalogue of development zones"),
    "catalogue_only": ("仅见于开发区目录，政策文件未提及",
                       "In the catalogue only; not named in the documents"),
    "seq": ("序号 {n}", "entry {n}"),
    "zones": ("成员内主导产业相符的开发区", "Zones in the members with matching industries"),
    "as_written": ("原文", "the document has"),  # before a damaged figure as the document prints it
}
UI = {  # the live map's page chrome; static/atlas/*.js gets these through ui_strings()
    "title": ("湖北产业集群地图", "Hubei Cluster Atlas"),
    "search": ("搜索名称、简称或拼音", "Search: name, abbreviation or pinyin"),
    "no_match": ("没有匹配项", "No matches"),
    "layers": ("图层", "Layers"), "filters": ("筛选", "Filters"), "all": ("全部", "All"),
    "industry": ("行业", "Industry"), "city": ("城市", "City"), "kind": ("类型", "Kind"),
    "level": ("级别", "Level"), "reset": ("清除筛选", "Clear filters"),
    "shading": ("城市着色", "Shade cities by"), "m_none": ("不着色", "Nothing"),
    "m_n_parks": ("园区数量", "Number of parks"), "m_n_projects": ("项目数量", "Number of projects"),
    "m_sector": ("有该行业：", "Has industry: "),
    "base": ("底图", "Base map"), "legend": ("图例", "Legend"), "share": ("分享与导出", "Share and export"),
    "export": ("导出当前视图（含图例、比例尺、来源）", "Export this view (with legend, scale and sources)"),
    "dl_png": ("图片 PNG", "Image (PNG)"), "dl_pdf": ("PDF", "PDF"),
    "dl_pptx": ("幻灯片 PPTX（当前视图）", "Slides of this view (PPTX)"),
    "dl_html": ("离线地图 HTML", "Offline map (HTML)"),
    "export_screen": ("按屏幕范围导出（否则按所选城市或集群）",
                      "Export the area on screen (else the chosen city or cluster)"),
    "embed_legend": ("嵌入时展开图例", "Embed with the legend open"),
    "embed_filters": ("嵌入时显示当前筛选", "Embed with the active filters shown"),
    "embed_any": ("嵌入代码可用于任何网站。", "The embed code works on any website."),
    "print": ("打印", "Print"), "paper": ("纸张", "Paper"), "legend_all": ("完整图例", "Full legend"),
    "paper_auto": ("按打印对话框", "as the print dialog sets"),
    "landscape": ("横向", "Landscape"), "portrait": ("纵向", "Portrait"),
    "print_note": ("打印所选城市或集群（勾选上方“按屏幕范围”则按屏幕），含图例、比例尺、指北针与来源。",
                   "Prints the whole map of the chosen city or cluster (or the screen's area when "
                   "ticked above), with legend, scale bar, north arrow and sources."),
    "embed_some": ("管理员已限制可嵌入的网站：", "The administrator allows embedding only on:"),
    "no_filters": ("未筛选", "No filters"),
    "here": ("此处 {n} 个园区与项目", "{n} parks and projects at this point"),
    "here_note": ("它们只知道所在乡镇、区、县或市，共用其代表点；点击名称查看详情。",
                  "Only their town, district, county or city is known, so they share its point; "
                  "pick one to open it."),
    "kind_park": ("园区", "Park"), "kind_project": ("项目", "Project"),
    "prec_town": ("乡镇点", "town point"), "prec_district": ("区代表点", "district point"),
    "prec_county": ("县代表点", "county point"), "prec_city": ("市代表点", "city point"),
    "prec_province": ("省代表点", "province point"), "prec_site": ("场址", "site"),
    "data_links": ("下载当前数据（可见图层与筛选）",
                   "Download what you see (visible layers, active filters)"),
    "fetch_failed": ("以下图层的边界未能加载", "Could not load the outlines of"),
    "retry": ("重试", "Retry"),
    "link": ("本视图链接", "Link to this view"), "iframe": ("嵌入代码（iframe）", "Embed code (iframe)"),
    "copy": ("复制", "Copy"), "copied": ("已复制", "Copied"),
    "sym_national": ("国家级园区", "National-level park"),
    "sym_provincial": ("省级园区", "Provincial-level park"),
    "sym_other": ("市级或级别未明的园区", "Municipal park or level not stated"),
    "sym_project": ("重点项目", "Project"),
    "named": ("来源", "Source"), "named_doc": ("文件提及", "Named in the documents"),
    "named_cat": ("仅目录", "Catalogue only"),
    "sym_catalogue": ("淡色：仅见于国家开发区目录（2018），政策文件未提及",
                      "Faded: only in the national catalogue of development zones (2018), "
                      "not named in the documents"),
    "solid": ("实心：实测场址", "Solid: a surveyed site"),
    "hollow": ("空心虚线：仅知所在乡镇、区、县或市，画在其代表点（非实际位置，多个要素可能重叠）",
               "Hollow, dashed: only the town, district, county or city is known; drawn at its point "
               "(not the real site; several features may share it)"),
    "corridor": ("走廊与产业链示意线（按原文顺序）", "Corridor line (schematic, in the document's order)"),
    "cluster_area": ("集群成员范围", "Cluster members' area"),
    "rivers": ("河流与湖泊（Natural Earth）", "Rivers and lakes (Natural Earth)"),
    "sectors_legend": ("园区与项目颜色：行业", "Colour of parks and projects: industry"),
    "lang_switch": ("English", "中文"), "about": ("数据来源与说明", "Sources and notes"),
    "downloads": ("下载数据", "Download data"), "open_full": ("打开完整地图", "Open the full map"),
    "members": ("成员（按原文顺序）与定位", "Members (in the document's order) and their roles"),
    "no_role": ("原文未给出定位", "no role stated in the documents"),
    "along_parks": ("沿线园区", "Parks along it"), "along_projects": ("沿线项目", "Projects along it"),
    "none_listed": ("暂无", "none yet"),
    "gcj_note": ("高德底图采用GCJ-02坐标，图层已相应偏移；下载数据仍为WGS84。",
                 "Gaode tiles are in GCJ-02: overlays are shifted to match; downloads stay WGS84."),
    "no_key": ("（未配置密钥）", " (no key configured)"),
    "features": ("个", " features"), "atlas": ("全部图层", "All layers"),
}


GROUPS = {  # the layer control's groups (server/view/model.py); "projects" is in DECK
    "group_boundaries": ("行政区划", "Boundaries"), "group_parks": ("园区与基地", "Parks and zones"),
    "group_clusters": ("集群与走廊", "Clusters and corridors"),
}
PRINT = {  # print pages' own words (server/exports/printmap.py); the rest come from UI and POPUP
    "doc_sources": ("资料来源", "Sources"),
    "built": ("数据构建于 {date}", "Data built {date}"),
    "approval": ("审图号：{n}", "Map approval No.: {n}"),
    "approx": ("空心虚线：仅知所在乡镇、区、县或市，画在其代表点，非实际位置",
               "Hollow, dashed: only the town, district, county or city is known; drawn at "
               "its point, not the real site"),
    "stack": ("圆中数字：同一代表点上的园区/项目数，字母见图下表", "Number in a circle: parks and "
              "projects sharing one representative point; its letter: see the table under the map"),
    "shared_key": ("同一代表点上的园区与项目（字母见图中圆旁）",
                   "Parks and projects sharing one point (by the letter beside each circle)"),
    "size_key": ("圆面积：同一点上的园区与项目数", "Circle area: parks and projects at one point"),
    "and_more": ("……另有 {n} 个", "…and {n} more"),
    "industry_key": ("行业（园区、项目颜色）", "Industry (colour of parks and projects)"),
    "symbols": ("符号", "Symbols"),
    "member_area": ("集群成员范围", "Member units"),
    "clusters_and_groups": ("集群与城市群范围", "Clusters and city groups"),
    "shaded_by": ("城市着色：", "Cities shaded by: "),
    "has_sector": ("有该行业", "has this industry"),
    "rivers_lakes": ("河流与湖泊", "Rivers and lakes"),
    "north": ("北", "N"),
    "km": ("公里", "km"),
    "filters_line": ("筛选：", "Filters: "),
    "none_drawn": ("当前筛选下没有要素", "No features under these filters"),
}
DECK = {  # slide decks (server/exports/deck.py)
    "deck": ("湖北产业集群简报", "Hubei industrial clusters: briefing"),
    "all_clusters": ("“汉孝随襄十”汽车走廊与全部集群", "The automobile corridor and every cluster"),
    "deck_built": ("数据构建于 {date} · 湖北产业集群地图", "Data built {date} · Hubei Cluster Atlas"),
    "members_and_roles": ("成员与定位（按原文顺序）", "Members and roles (in the document's order)"),
    "n": ("序号", "No."), "member": ("成员", "Member"), "role": ("原文定位", "Role (document's words)"),
    "cite": ("出处", "Source"), "no_role_short": ("原文未给出定位", "no role stated"),
    "deck_parks": ("园区", "Parks and zones"), "projects": ("重点项目", "Projects"),
    "name": ("名称", "Name"), "kind_level": ("类型 · 级别", "Kind · level"),
    "placed_at": ("定位精度", "Placed at"), "metric": ("指标", "Metric"), "value": ("数值", "Value"),
    "year": ("年份", "Year"),
    "docs_intro": ("本简报每一项内容均引自以下文件（文件、行号、原文）。",
                   "Every item in this briefing cites one of these documents (document, line, quote)."),
    "areas": ("范围与线", "Areas and lines"), "deck_clusters": ("集群", "Clusters"),
    "per_city": ("各市（州）园区与项目数", "Parks and projects per city"), "unit": ("地区", "Place"),
    "deck_roles": ("定位、称号与主导产业", "Roles, designations and leading industries"),
    "role_type": ("类别", "Kind"), "statement": ("原文表述", "In the document's words"),
}
OFFLINE = {  # offline map files (server/exports/offline.py)
    "offline": ("离线地图文件：无需网络即可打开", "Offline map file: opens without a network"),
    "nearby": ("实线圆中数字：相邻的园区与项目数，点击放大", "Number in a solid circle: parks and "
               "projects near each other; click to zoom in"),
    "corridors_chains": ("走廊与产业链", "Corridors and chains"),
    "cluster_members": ("集群成员", "Cluster members"), "cluster_areas": ("集群范围", "Clusters"),
}
SOURCE_LINE = {  # the line of sources under a map (server/view/sourceline.py); "built" is in PRINT
    "sources_lead": ("资料来源：", "Sources: "),
    "boundaries": ("行政区划边界：{pkg}（GCJ-02 转 WGS84）", "Boundaries: {pkg} (GCJ-02 converted to WGS84)"),
    "hydro": ("河流湖泊：Natural Earth", "Rivers and lakes: Natural Earth"),
}
SECTIONS: dict[str, Words] = {"popup": POPUP, "ui": UI, "groups": GROUPS, "print": PRINT, "deck": DECK,
                              "offline": OFFLINE, "source_line": SOURCE_LINE}


def _one_key_each(sections: dict[str, Words]) -> Words:
    merged: Words = {}
    for name, table in sections.items():
        for key, pair in table.items():
            if key in merged:
                raise ValueError(f"words: {key!r} of {name} is already in another section")
            merged[key] = pair
    return merged


WORDS = _one_key_each(SECTIONS)


def say(key: str, lang: str, **fmt: Any) -> str:
    """The word `key` in `lang`, with `{name}` fields filled from `fmt`."""
    zh, en = WORDS[key]
    text = zh if lang == "zh" else en
    return text.format(**fmt) if fmt else text


def ui_strings(lang: str) -> dict[str, str]:
    """The live map's words for static/atlas/*.js (the page's `ui`)."""
    return {k: say(k, lang) for k in UI}


# ---------------------------------------------------------------- enum labels

KINDS = {
    "high_tech_zone": ("高新区", "High-tech zone"), "economic_zone": ("经济开发区", "Economic zone"),
    "industrial_park": ("产业园区", "Industrial park"), "base": ("基地", "Base"),
    "demonstration_zone": ("示范区", "Demonstration zone"), "chemical_zone": ("化工园区", "Chemical zone"),
    "town": ("特色小镇", "Town"), "other": ("其他", "Other"),
    "customs_zone": ("海关特殊监管区域", "Customs special supervision zone"),
    "corridor": ("走廊", "Corridor"), "cluster": ("集群", "Cluster"), "chain": ("产业链", "Chain"),
    "city_group": ("城市群", "City group"), "belt": ("产业带", "Belt"),
    "province": ("省", "Province"), "city": ("市（州）", "City"), "county": ("县（市、区）", "County"),
}
LEVELS = {"national": ("国家级", "National"), "provincial": ("省级", "Provincial"),
          "municipal": ("市级", "Municipal"), "": ("级别未明", "Level not stated")}
STATUSES = {"existing": ("已有", "existing"), "planned": ("规划", "planned"),
            "applying": ("申报中", "applying"), "suggested": ("建议", "suggested")}
PRECISIONS = {
    "site": ("实测位置", "surveyed site"),
    "town": ("仅到乡镇：GeoNames 地名点，非实际位置",
             "town only: drawn at the town's GeoNames point, not the real site"),
    "district": ("仅到区级：区代表点，非实际位置",
                 "district only: drawn at the district's representative point, not the real site"),
    "county": ("仅到县级：县（市、区）代表点，非实际位置",
               "county only: drawn at the county's representative point, not the real site"),
    "city": ("仅到市级：市（州）代表点，非实际位置",
             "city only: drawn at the city's representative point, not the real site"),
    "province": ("仅到省级：省代表点，非实际位置",
                 "province only: drawn at the province's representative point, not the real site"),
}
ROLE_TYPES = {"role": ("定位", "role"), "leading_industry": ("主导产业", "leading industry"),
              "resource": ("资源", "resource"), "brand": ("品牌", "brand"),
              "designation": ("称号", "designation")}
FIGURE_STATUS = {"target": ("目标", "target"), "achieved": ("实绩", "achieved"),
                 "baseline": ("基数", "baseline")}
PRECISION_SHORT = {  # a deck's table column: where a feature is placed, in a word
    "site": ("场址", "site"), "town": ("乡镇", "town"), "district": ("区级", "district"),
    "county": ("县级", "county"), "city": ("市级", "city"), "province": ("省级", "province"),
}
ENUMS: dict[str, Words] = {"kinds": KINDS, "levels": LEVELS, "statuses": STATUSES, "precisions": PRECISIONS,
                           "role_types": ROLE_TYPES, "figure_status": FIGURE_STATUS,
                           "precision_short": PRECISION_SHORT}


def label(table: Words, value: Any, lang: str) -> str:
    """The name of an enum value (`table`: KINDS, LEVELS, ...); an unknown value as it is."""
    pair = table.get(value if value is not None else "")
    if pair is None:
        return str(value)
    return pair[0] if lang == "zh" else pair[1]
