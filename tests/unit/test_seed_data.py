"""The seed-derived layers, checked the way a planner would check them against the seeds."""

from __future__ import annotations

import re

import pyogrio
import pytest
import shapely

from layers.records import join_lines
from layers.sources import DEFAULT_SOURCES, iter_citations, load_seed_lines, load_sources
from server.store import read_atlas
from tests.conftest import seeds_dir

CORRIDOR = [420100, 420900, 421300, 420600, 420300]  # 武汉 孝感 随州 襄阳 十堰
XIANNING_COUNTIES = {421202, 421221, 421222, 421223, 421224, 421281}


@pytest.fixture(scope="module")
def atlas(built_atlas):
    layers, meta = read_atlas(built_atlas)
    return layers, meta


@pytest.fixture(scope="module")
def sources():
    return load_sources(DEFAULT_SOURCES, None, seeds_dir())


def _by_name(frame, name_zh):
    rows = frame[frame.name_zh == name_zh]
    assert len(rows) == 1, f"expected one feature named {name_zh}, found {len(rows)}"
    return rows.iloc[0]


def test_every_quote_is_on_its_cited_seed_line(sources):
    """load_sources raises on any quote that is not an exact substring of its line;
    here we also count that every record kind is cited and the seeds were really read."""
    assert sources.seeds_checked
    cited = sum(len(list(iter_citations(r))) for k in sources.records for r in sources.of(k))
    assert cited > 500
    for kind in ("parks", "clusters", "projects", "roles", "targets", "sector_terms"):
        assert sources.of(kind), f"no {kind} records"
        for rec in sources.of(kind):
            assert rec.data["sources"], rec.where()


# A sentence may stop at the end of a line only after one of these.
FINAL = tuple("。；，、）：！？”」》.;,:!?)")
# Lines that open a new unit rather than continue the previous one: headings, numbered
# items, attributions (——2016 年……报告), page numbers (- 158 -).
OPENING = re.compile(r"^(——|[（(]?[一二三四五六七八九十\d]+[、.．）)]"
                     r"|第[一二三四五六七八九十]+[章节篇条]|附件|专栏|-\s*\d+\s*-$)")


def cut_at_line_break(lines: list[str], cite: dict) -> str | None:
    """The seed line after which a citation's quote stops although its sentence continues:
    the quote ends exactly where its (last) cited line ends, that line has no closing
    punctuation and the next non-blank line goes on with the same sentence. None if whole."""
    first, last = cite["line"], cite.get("to", cite["line"])
    text = join_lines(lines, first, last)
    heading = OPENING.match(text) and not re.search("[，。；]", text)
    if not text or "\t" in text or heading or not text.endswith(cite["quote"].strip()):
        return None  # table cells (003's annexes) and headings end without punctuation
    if text.endswith(FINAL):
        return None
    nxt = next((n.strip() for n in lines[last:last + 4] if n.strip()), "")
    if not nxt or "\t" in nxt or OPENING.match(nxt):
        return None
    return f"{cite['doc'][:3]}:{last} ends 「{text[-8:]}」, goes on 「{nxt[:8]}」"


def test_no_role_is_quoted_cut_off_at_a_line_break(sources):
    """A role quoted only up to a line break reads as cut-off Chinese (支持赤壁市重点发展纺织服装
    for five industries): it must cite the range of lines (`to`) and quote the whole phrase."""
    seeds = load_seed_lines(seeds_dir())
    cut = []
    for rec in sources.of("roles") + sources.of("clusters"):
        cites = rec.data["sources"] if rec.kind == "roles" else \
            [c for m in rec.data["members"] if isinstance(m, dict) for c in m.get("sources", [])]
        for cite in cites:
            where = cut_at_line_break(seeds[cite["doc"]], cite)
            if where:
                cut.append(f"{rec.id}: {where}")
    assert not cut, "\n".join(cut)
    assert cut_at_line_break(seeds["004_8b9e8b7d82a22611.txt"],
                             {"doc": "004_8b9e8b7d82a22611.txt", "line": 6063, "quote": "纺织服装、应"})
    for role in sources.of("roles"):
        assert any(role.data["text_zh"] in c["quote"] for c in role.data["sources"]), role.id


@pytest.mark.parametrize("kind", ["parks", "clusters", "projects"])
def test_no_name_is_quoted_cut_off_at_a_line_break(sources, kind):
    """A park, cluster or project quoted in pieces, one per line (将咸宁生 | 命健康园…, 崇阳钒业钒 |
    电池研发项目), reads as cut-off names: the pieces are one citation over the lines (`to`)."""
    seeds = load_seed_lines(seeds_dir())
    cut = [f"{rec.id}: {where}" for rec in sources.of(kind) for cite in rec.data["sources"]
           if (where := cut_at_line_break(seeds[cite["doc"]], cite))]
    assert not cut, "\n".join(cut)


def _in_order(words: str, text: str) -> bool:
    """Every character of words occurs in text, in order (cells between them allowed)."""
    rest = iter(text)
    return all(c in rest for c in words)


def test_the_2016_indicator_table_is_quoted_in_whole_cells(sources):
    """004's 2016 indicator table (6604–6682) has no punctuation and breaks cells over lines
    (研发经费内部支 | 出占主营业务收入比重, 二氧化碳排放量 | 下降幅度, 比2015年 | 下降 22%). A target
    that cites it quotes its metric whole in one citation (a row whose cells interleave, 能耗下 …
    降幅度, in order), and its value in a citation that also holds the metric or the value's base
    year, never a bare fragment."""
    table = [r for r in sources.of("targets") if any(
        c["doc"].startswith("004") and 6604 <= c["line"] <= 6682 for c in r.data["sources"])]
    assert len(table) == 33
    for rec in table:
        metric = rec.data["metric_zh"].replace(" ", "")
        quotes = [c["quote"].replace(" ", "") for c in rec.data["sources"]]
        assert any(_in_order(metric, q) for q in quotes), rec.id
        value = rec.data["value_text"].replace(" ", "")
        assert any(value in q and (_in_order(metric, q) or "比" in q) for q in quotes), rec.id


def test_inferred_facts_carry_their_basis(atlas):
    layers, _ = atlas
    parks = layers["parks"]
    with_county = parks[parks.county_adcode.notna()]
    assert len(with_county)
    for _, park in parks.iterrows():
        for field, basis in (park.inferred or {}).items():
            assert field in parks.columns or field in ("aliases",), field
            assert len(basis) >= 10


@pytest.mark.parametrize("layer", ["parks", "projects"])
def test_points_lie_inside_their_declared_county_and_city(atlas, layer):
    layers, _ = atlas
    counties = layers["counties"].set_index("adcode").geometry
    cities = layers["cities"].set_index("adcode").geometry
    provinces = layers["provinces"].set_index("adcode").geometry
    points = layers[layer]
    assert len(points)
    for _, feature in points.iterrows():
        if feature.precision == "province":
            assert provinces[int(feature.city_adcode)].covers(feature.geometry), feature.id
            continue
        city = cities[int(feature.city_adcode)]
        assert city.covers(feature.geometry), (feature.id, "outside its city")
        if feature.county_adcode is not None and feature.county_adcode == feature.county_adcode:
            county = counties[int(feature.county_adcode)]
            assert county.covers(feature.geometry), (feature.id, "outside its county")


def test_precision_is_recorded_and_only_honest_values_are_used(atlas):
    """Precision says what the point is; a feature at its park says so in at_park."""
    layers, _ = atlas
    words = {"town", "district", "county", "city", "province"}
    assert set(layers["parks"].precision) <= words
    assert set(layers["projects"].precision) <= words
    parks = layers["parks"].set_index("id")
    for name in ("parks", "projects"):
        for _, f in layers[name][layers[name].at_park.notna()].iterrows():
            park = parks.loc[f.at_park]
            assert f.geometry.equals(park.geometry) and f.precision == park.precision, f.id
    assert (layers["projects"].at_park.fillna("") == layers["projects"].park.fillna("")).all()


def test_automobile_corridor_is_the_ordered_chain_of_five_cities(atlas):
    layers, _ = atlas
    clusters = layers["clusters"]
    corridor = clusters[clusters.name_zh.str.contains("汉孝随襄十")].iloc[0]
    assert corridor.kind == "corridor"
    assert corridor.members == CORRIDOR
    assert "members" in corridor.inferred  # the expansion of the abbreviation is inferred
    roles = {m["adcode"]: m["role_zh"] for m in corridor.member_roles}
    assert "中国商用车之都" in roles[420300]
    assert "中国专用车之都" in roles[421300]
    assert "新能源汽车" in roles[420600]
    assert 420900 not in roles, "孝感's automobile role is not stated in any seed"
    line = layers["cluster_lines"].set_index("id").loc[corridor.id]
    assert len(line.geometry.coords) == 5
    cities = layers["cities"].set_index("adcode").geometry
    for coord, adcode in zip(line.geometry.coords, CORRIDOR):
        assert cities[adcode].covers(shapely.Point(coord))


def test_no_city_is_assigned_engines(atlas):
    layers, _ = atlas
    for _, city in layers["cities"].iterrows():
        for role in city.roles or []:
            assert "发动机" not in role["text_zh"], (city.adcode, role)
    for roles in layers["clusters"].member_roles.dropna():
        assert all("发动机" not in r["role_zh"] for r in roles)


@pytest.mark.parametrize(("needle", "order"), [
    ("沿江船舶制造产业集群", [420500, 420100, 420700, 421100]),
    ("数控机床产业集群", [420500, 421000, 420100, 420700, 420200]),
])
def test_multi_city_equipment_clusters_keep_the_seed_order(atlas, needle, order):
    clusters = atlas[0]["clusters"]
    row = clusters[clusters.name_zh.str.contains(needle)].iloc[0]
    assert row.members == order
    assert row.ordered


def test_lost_cluster_text_is_noted_not_filled(atlas):
    clusters = atlas[0]["clusters"]
    notes = " ".join(n for n in clusters.note.dropna())
    assert "001:425" in notes or "page break" in notes


def test_city_roles_are_joined_onto_cities(atlas):
    cities = atlas[0]["cities"].set_index("adcode")
    shiyan = [r["text_zh"] for r in cities.loc[420300, "roles"]]
    assert any("中国商用车之都" in t for t in shiyan)
    suizhou = [r["text_zh"] for r in cities.loc[421300, "roles"]]
    assert any("中国专用车之都" in t for t in suizhou)
    assert "auto" in cities.loc[420300, "sectors"]
    corridor_id = atlas[0]["clusters"].loc[
        atlas[0]["clusters"].name_zh.str.contains("汉孝随襄十"), "id"].iloc[0]
    for adcode in CORRIDOR:
        assert corridor_id in cities.loc[adcode, "groups"]
    assert cities.loc[420100, "n_parks"] > 0


def test_xianning_counties_have_their_leading_industries(atlas):
    counties = atlas[0]["counties"].set_index("adcode")
    for adcode in XIANNING_COUNTIES:
        roles = counties.loc[adcode, "roles"] or []
        assert any(r["type"] == "leading_industry" for r in roles), adcode


def test_wuhan_annex_projects_are_all_there(atlas):
    projects = atlas[0]["projects"]
    annex = projects[projects.block.fillna("").str.startswith("003 附件2")]
    linked = [p for ps in atlas[0]["parks"].projects.dropna() for p in ps
              if (p.get("block") or "").startswith("003 附件2")]
    assert len(annex) + len(linked) == 69  # 国家存储器基地项目 is listed on its park
    assert set(annex.city_adcode) == {420100}


def test_no_row_comes_from_the_missing_annex_tables(sources):
    for kind in ("projects", "parks"):
        for rec in sources.of(kind):
            for cite in iter_citations(rec):
                assert "附表" not in cite["quote"], rec.where()


def test_damaged_target_is_read_as_one_point_two(sources):
    damaged = [r for r in sources.of("targets")
               if any(c["doc"].startswith("000") and c["line"] == 279 for c in iter_citations(r))
               and r.data.get("year") == 2020]
    assert damaged, "the 2020 new-generation IT target (000:279) is missing"
    target = damaged[0].data
    assert target["value"] == pytest.approx(1.2)
    assert target["defect"]["reading"]


def test_hunan_context_layer(atlas):
    layers, _ = atlas
    clusters = layers["clusters"]
    cztw = clusters[clusters.name_zh.str.contains("长株潭")]
    assert len(cztw) == 1
    assert set(cztw.iloc[0].members) == {430100, 430200, 430300}
    hunan = layers["provinces"].set_index("adcode").loc[430000]
    assert len([r for r in hunan.roles if r["type"] == "leading_industry"]) >= 12


def test_sector_filters_use_canonical_codes(atlas):
    layers, meta = atlas
    codes = {s["code"] for s in meta["sectors"]}
    for name in ("parks", "projects", "clusters"):
        for sectors in layers[name].sectors:
            assert set(sectors) <= codes
    terms = meta["sector_terms"]
    docs = {t["doc"][:3] for t in terms}
    assert docs == {"000", "001", "002", "003", "004"}


def test_counts_by_document_are_in_the_build_metadata(built_atlas):
    meta = read_atlas(built_atlas)[1]
    for kind in ("parks", "clusters", "projects"):
        assert sum(meta["counts_by_doc"][kind].values()) >= meta["counts"][kind]
    assert pyogrio.read_info(built_atlas, layer="parks")["features"] == meta["counts"]["parks"]


def test_target_years_are_quoted_or_flagged_inferred(sources):
    """A target's year is in one of its quotes (as digits: 2020 年, 2018－2020 年) or is an
    inferred value whose basis says where it comes from (“十三五”时期 → 2020)."""
    unstated = [r.id for r in sources.of("targets")
                if r.data.get("year") and "year" not in r.inferred
                and not any(str(r.data["year"]) in c["quote"] for c in r.data["sources"])]
    assert not unstated, unstated
    assert any("year" in r.inferred for r in sources.of("targets"))


def test_project_park_links_are_quoted_or_flagged_inferred(sources):
    """A project's park is named in one of its quotes or flagged inferred; the 003 annex
    table gives no site per project, so a zone taken from its block's 重点区域 is inferred."""
    parks = sources.by_id("parks")
    for rec in sources.of("projects"):
        park = rec.data.get("park")
        if not park:
            continue
        if (rec.data.get("block") or "").startswith("003 附件2"):
            assert "park" in rec.inferred, rec.where("park")
        if "park" in rec.inferred:
            continue
        names = [parks[park].data["name_zh"], *(parks[park].data.get("aliases") or [])]
        assert any(n in c["quote"] for n in names for c in rec.data["sources"]), rec.where("park")


def test_project_alt_park_links_are_quoted_or_flagged_inferred(sources):
    """`alt_parks` are the zones a seed names for a project's block or list, not for the
    project: each is named in one of the project's quotes, and unless the quotes tie the
    project itself to them (never, in 003's annex table), the link is flagged inferred."""
    parks = sources.by_id("parks")
    with_alt = [r for r in sources.of("projects") if r.data.get("alt_parks")]
    assert with_alt
    for rec in with_alt:
        if (rec.data.get("block") or "").startswith("003 附件2"):
            assert "alt_parks" in rec.inferred, rec.where("alt_parks")
        for park in rec.data["alt_parks"]:
            names = [parks[park].data["name_zh"], *(parks[park].data.get("aliases") or [])]
            assert any(n in c["quote"] for n in names for c in rec.data["sources"]), (rec.id, park)


def test_existing_status_is_not_read_from_a_plan(sources):
    """「重点发展」 (develop as a focus) says nothing about whether a zone exists already."""
    for rec in sources.of("parks") + sources.of("clusters"):
        if rec.data.get("status") == "existing" and "status" not in rec.inferred:
            quotes = "".join(c["quote"] for c in rec.data["sources"])
            assert "重点发展" not in quotes, rec.where("status")


SEED_004 = "004_8b9e8b7d82a22611.txt"
XIANNING_PART = 5854  # 004's 第四篇 and 第五篇 (Xianning) start here


def _cites(rec, doc: str, line: int) -> bool:
    return any(c["doc"] == doc and c["line"] <= line <= c.get("to", c["line"])
               for c in iter_citations(rec))


def _outside_xianning(rec) -> bool:
    """A record of 004's Hubei content: cites 004 before its Xianning part, and is not of Xianning."""
    adcode = rec.data.get("city_adcode") or rec.data.get("adcode")
    return (not str(adcode).startswith("4212")
            and any(c["doc"] == SEED_004 and c["line"] < XIANNING_PART for c in iter_citations(rec)))


@pytest.mark.parametrize(("name_zh", "line"), [
    ("大冶湖高新技术开发区", 5732),
    ("武汉国家智能网联汽车示范区", 4960),
    ("仙桃彭场镇无纺布产业密集区", 4207),
    ("武汉蔡甸车用纺织基地", 4217),
    ("国家新能源汽车和智能网联汽车产业基地", 3182),
])
def test_seed_004_hubei_sites_are_parks_citing_their_line(sources, name_zh, line):
    parks = [r for r in sources.of("parks") if r.data["name_zh"] == name_zh]
    assert len(parks) == 1, name_zh
    assert _cites(parks[0], SEED_004, line), parks[0].where("sources")


def test_seed_004_hubei_geography_outside_xianning(sources):
    """004's reprinted Hubei documents and its 襄阳/黄石 cases name sites and roles across the
    province; before, none of the sites and three of the roles were records."""
    parks = [r for r in sources.of("parks") if _outside_xianning(r)]
    assert len(parks) >= 20, len(parks)
    assert len({r.data["city_adcode"] for r in parks}) >= 7  # 武汉 襄阳 宜昌 荆门 黄冈 仙桃 黄石 孝感
    roles = [r for r in sources.of("roles") if _outside_xianning(r)]
    assert len(roles) >= 30, len(roles)
    demo = {r.data["adcode"] for r in roles
            if "国家级示范区" in r.data["text_zh"] and _cites(r, SEED_004, 3186)}
    assert demo == {420600, 420500}  # 支持襄阳、宜昌创建“中国制造 2025”国家级示范区
    by_id = sources.by_id("parks")
    for park in ("wuhan-donghu-hitech", "wuhan-national-memory-base", "xiangyang-hitech",
                 "yichang-hitech", "xiaogan-hitech"):  # already in the atlas: cited, not duplicated
        assert any(c["doc"] == SEED_004 for c in iter_citations(by_id[park])), park


def test_hubei_province_positionings_are_roles(sources, atlas):
    roles = [r for r in sources.of("roles") if r.data["adcode"] == 420000]
    lines = {c["line"] for r in roles for c in iter_citations(r) if c["doc"].startswith("000")}
    assert {134, 136, 138, 140} <= lines  # the four dashes of 000's 发展定位
    hubei = atlas[0]["provinces"].set_index("adcode").loc[420000]
    texts = [r["text_zh"] for r in hubei.roles]
    assert "先进制造业集群核心区" in texts and "智能制造先行区" in texts


def test_seed_004_zone_linked_to_its_catalogue_entry_is_one_feature(atlas):
    parks = atlas[0]["parks"]
    dayehu = _by_name(parks, "大冶湖高新技术开发区")
    assert dayehu.catalogue_code == "S428054"
    assert "zone-s428054" not in set(parks.id)
    assert "国家级高新技术开发区" in dayehu.designations
