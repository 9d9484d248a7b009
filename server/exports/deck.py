"""Briefing decks (PowerPoint, 16:9) built with python-pptx.

A deck has a title slide; for each cluster a slide with its map and slides with the table of
its members in the document's order, their roles in the document's words and the citation;
for a city its map and the parks, projects and targets in it with citations; and a closing
slide listing the source documents. Text stays editable text (tables are PowerPoint tables);
only the map is a picture, rendered at slide resolution by server.printmap.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import replace

from pptx import Presentation
from pptx.dml.color import RGBColor
from pptx.oxml.ns import qn
from pptx.util import Inches, Pt

from layers.admin import Units
from layers.registry import ADMIN_LAYERS, records
from layers.words import FIGURE_STATUS, KINDS, LEVELS, PRECISION_SHORT, label, say
from server.exports import printmap
from server.view.params import View
from server.view.popups import present

MAP_DPI = 150  # slide resolution: 13.33 in × 150 dpi = 2000 px across
SLIDE_W, SLIDE_H = Inches(13.333), Inches(7.5)
ROWS_PER_SLIDE = 9
FONT = "Microsoft YaHei"  # what PowerPoint and WPS in China have; viewers substitute elsewhere
DARK = RGBColor(0x22, 0x22, 0x22)
MUTED = RGBColor(0x66, 0x66, 0x66)
ACCENT = RGBColor(0xB2, 0x18, 0x2B)

def _font(run, size: float, bold: bool = False, colour: RGBColor = DARK) -> None:
    run.font.size = Pt(size)
    run.font.bold = bold
    run.font.color.rgb = colour
    run.font.name = FONT
    rpr = run._r.get_or_add_rPr()
    for tag in ("a:ea", "a:cs"):  # East Asian text takes its font from <a:ea>, not <a:latin>
        el = rpr.find(qn(tag))
        if el is None:
            el = rpr.makeelement(qn(tag), {})
            rpr.append(el)
        el.set("typeface", FONT)


def _text(slide, x, y, w, h, paragraphs: Iterable[tuple[str, float, bool, RGBColor]]) -> None:
    box = slide.shapes.add_textbox(x, y, w, h)
    tf = box.text_frame
    tf.word_wrap = True
    for i, (text, size, bold, colour) in enumerate(paragraphs):
        p = tf.paragraphs[0] if i == 0 else tf.add_paragraph()
        run = p.add_run()
        run.text = text
        _font(run, size, bold, colour)


def _fit_size(text: str, width_pt: float, size: float = 26, smallest: float = 16) -> float:
    """A font size at which `text` fits on one line (CJK glyphs are about 1 em wide, Latin 0.55)."""
    ems = sum(0.55 if ord(ch) < 0x2E80 else 1.0 for ch in text)
    while size > smallest and ems * size > width_pt:
        size -= 1
    return size


def _title(slide, title: str, subtitle: str = "") -> None:
    paras = [(title, _fit_size(title, 12.3 * 72 * 0.95), True, DARK)]
    if subtitle:
        paras.append((subtitle, 13, False, MUTED))
    _text(slide, Inches(0.5), Inches(0.25), Inches(12.3), Inches(1.0), paras)


def _table(slide, header: list[str], rows: list[list[str]], widths: list[float]) -> None:
    top = Inches(1.35)
    shape = slide.shapes.add_table(len(rows) + 1, len(header), Inches(0.5), top, Inches(sum(widths)),
                                   Inches(0.4 * (len(rows) + 1)))
    table = shape.table
    for j, wdt in enumerate(widths):
        table.columns[j].width = Inches(wdt)
    for j, text in enumerate(header):
        cell = table.cell(0, j)
        cell.text = ""
        _font(cell.text_frame.paragraphs[0].add_run(), 12, True, RGBColor(0xFF, 0xFF, 0xFF))
        cell.text_frame.paragraphs[0].runs[0].text = text
        cell.fill.solid()
        cell.fill.fore_color.rgb = ACCENT
    for i, row in enumerate(rows, 1):
        for j, text in enumerate(row):
            cell = table.cell(i, j)
            cell.text = ""
            run = cell.text_frame.paragraphs[0].add_run()
            run.text = text
            _font(run, 11)
            cell.text_frame.word_wrap = True
            cell.fill.solid()
            cell.fill.fore_color.rgb = RGBColor(0xFF, 0xFF, 0xFF) if i % 2 else RGBColor(0xF5, 0xF1, 0xEE)


def _cite(sources: list | None, codes: dict[str, str], lang: str, limit: int = 2) -> str:
    out = []
    for c in (sources or [])[:limit]:
        line = f"{c['line']}–{c['to']}" if c.get("to") else str(c["line"])
        out.append(f"{codes.get(c['doc'], c['doc'][:3])} {say('line', lang, n=line)}")
    more = len(sources or []) - limit
    return "；".join(out) + (f" …(+{more})" if more > 0 else "") if lang == "zh" else \
        "; ".join(out) + (f" … (+{more})" if more > 0 else "")


class Deck:
    def __init__(self, store, lang: str, approval: str):
        self.store = store
        self.lang = lang
        self.approval = approval
        self.meta = store.meta
        self.codes = {d["doc"]: d["code"] for d in self.meta.get("documents", [])}
        self.prs = Presentation()
        self.prs.slide_width, self.prs.slide_height = SLIDE_W, SLIDE_H
        self.blank = self.prs.slide_layouts[6]
        self.units = Units({lid: store.layer(lid) for lid in ADMIN_LAYERS}).rows

    def slide(self):
        return self.prs.slides.add_slide(self.blank)

    def title_slide(self, subtitle: str) -> None:
        sl = self.slide()
        date = str(self.meta.get("built_at") or "")[:10]
        _text(sl, Inches(0.8), Inches(2.4), Inches(11.7), Inches(2.6), [
            (say("deck", self.lang), 40, True, DARK), (subtitle, 22, False, ACCENT),
            (say("deck_built", self.lang, date=date), 14, False, MUTED)])

    def map_slide(self, view: View, title: str, subtitle: str) -> None:
        sl = self.slide()
        _title(sl, title, subtitle)
        size = (12.9, 6.1)
        # text a little larger than on paper: a slide is read from across a room
        png = printmap.render(self.store, replace(view, dpi=MAP_DPI), "png", self.approval, size=size,
                              show_title=False, text_scale=1.25)
        sl.shapes.add_picture(io.BytesIO(png), Inches(0.2), Inches(1.3), Inches(size[0]), Inches(size[1]))

    def table_slides(self, title: str, header: list[str], rows: list[list[str]], widths: list[float]) -> None:
        if not rows:
            rows = [[say("none_in_docs", self.lang)] + [""] * (len(header) - 1)]
        for start in range(0, len(rows), ROWS_PER_SLIDE):
            sl = self.slide()
            _title(sl, title + (say("cont", self.lang) if start else ""))
            _table(sl, header, rows[start:start + ROWS_PER_SLIDE], widths)

    def cluster(self, rec: dict) -> None:
        lang = self.lang
        name = printmap.feature_name(rec, lang)
        sectors = [self._sector(c) for c in rec.get("sectors") or []]
        sub = label(KINDS, rec.get("kind"), lang) + (" · " + " · ".join(sectors) if sectors else "")
        self.map_slide(View(cluster=rec["id"], lang=lang, paper="16:9"), name, sub)
        roles = {m["adcode"]: m for m in rec.get("member_roles") or []}
        rows = []
        for i, a in enumerate(rec.get("members") or [], 1):
            a = int(a)
            role = roles.get(a) or {}
            text = (role.get("role_zh") if lang == "zh" else role.get("role_en") or role.get("role_zh")) or \
                say("no_role_short", lang)
            rows.append([str(i), printmap.feature_name(self.units.get(a, {}), lang) or str(a), text,
                         _cite(role.get("sources"), self.codes, lang)])
        self.table_slides(f"{name} · {say('members_and_roles', lang)}",
                          [say(k, lang) for k in ("n", "member", "role", "cite")], rows,
                          [0.8, 2.6, 6.3, 2.6])

    def city(self, adcode: int) -> None:
        lang = self.lang
        unit = self.units[adcode]
        name = printmap.feature_name(unit, lang)
        self.map_slide(View(city=adcode, lang=lang, paper="16:9"), name, "")
        parks = [r for r in records(self.store.layer("parks")) if r.get("city_adcode") == adcode]
        rows = [[printmap.feature_name(r, lang),
                 " · ".join(label(table, r[key], lang) for key, table in (("kind", KINDS), ("level", LEVELS))
                            if present(r.get(key))),
                 "、".join(self._sector(c) for c in r.get("sectors") or []),
                 self._where(r), _cite(r.get("sources"), self.codes, lang)] for r in parks]
        head = [say(k, lang) for k in ("name", "kind_level", "sectors", "placed_at", "cite")]
        self.table_slides(f"{name} · {say('deck_parks', lang)}", head, rows, [3.8, 2.2, 2.6, 1.3, 2.4])
        projects = [r for r in records(self.store.layer("projects")) if r.get("city_adcode") == adcode]
        rows = [[printmap.feature_name(r, lang), "、".join(self._sector(c) for c in r.get("sectors") or []),
                 self._where(r), _cite(r.get("sources"), self.codes, lang)] for r in projects]
        self.table_slides(f"{name} · {say('projects', lang)}",
                          [say(k, lang) for k in ("name", "sectors", "placed_at", "cite")], rows,
                          [6.0, 2.6, 1.3, 2.4])
        figures = list(unit.get("figures") or [])
        for r in records(self.store.layer("counties")):
            if int(r.get("parent_adcode") or 0) == adcode and r.get("figures"):
                figures += [{**f, "_unit": printmap.feature_name(r, lang)} for f in r["figures"]]
        rows = []
        for f in figures:
            metric = f.get("metric_zh") if lang == "zh" else (f.get("metric_en") or f.get("metric_zh"))
            if f.get("_unit"):
                metric = f"{f['_unit']}：{metric}" if lang == "zh" else f"{f['_unit']}: {metric}"
            rows.append([metric, str(f.get("value_text") or f.get("value") or ""),
                         f"{f.get('year') or ''} {label(FIGURE_STATUS, f.get('status'), lang)}".strip(),
                         _cite(f.get("sources"), self.codes, lang)])
        self.table_slides(f"{name} · {say('figures', lang)}",
                          [say(k, lang) for k in ("metric", "value", "year", "cite")], rows,
                          [5.6, 2.6, 1.7, 2.4])

    def closing(self) -> None:
        lang = self.lang
        sl = self.slide()
        _title(sl, say("doc_sources", lang), say("docs_intro", lang))
        paras = []
        for d in self.meta.get("documents", []):
            title = d["title_zh"] if lang == "zh" else d["title_en"]
            facts = (d.get("issuer_zh"), d.get("doc_number"), d.get("date") or d.get("year"))
            extra = " · ".join(str(x) for x in facts if x)
            paras.append((f"{d['code']}  {title}", 14, True, DARK))
            paras.append((extra, 11, False, MUTED))
        b = self.meta.get("boundaries") or {}
        pkg = f"{b.get('package', '')} {b.get('version', '')}"
        paras.append((say("boundaries", lang, pkg=pkg), 11, False, MUTED))
        built = str(self.meta.get("built_at") or "")[:10]
        paras.append((say("deck_built", lang, date=built), 11, False, MUTED))
        if self.approval:
            paras.append((say("approval", lang, n=self.approval), 11, False, DARK))
        _text(sl, Inches(0.5), Inches(1.5), Inches(12.3), Inches(5.6), paras)

    def _sector(self, code: str) -> str:
        return printmap.sector_name(self.meta, code, self.lang)

    def _where(self, rec: dict) -> str:
        return label(PRECISION_SHORT, rec.get("precision") or "", self.lang)

    def save(self) -> bytes:
        buf = io.BytesIO()
        self.prs.core_properties.title = say("deck", self.lang)
        self.prs.core_properties.author = "Hubei Cluster Atlas"
        self.prs.save(buf)
        return buf.getvalue()


CORRIDOR = "c001-han-xiao-sui-xiang-shi-auto-corridor"


def build_deck(store, view: View, approval: str = "") -> bytes:
    """The deck for `view.cluster`, `view.city`, or (neither) the corridor and every cluster."""
    deck = Deck(store, view.lang, approval)
    clusters = {r["id"]: r for r in records(store.layer("clusters"))}
    if view.cluster:
        deck.title_slide(printmap.feature_name(clusters[view.cluster], view.lang))
        deck.cluster(clusters[view.cluster])
    elif view.city is not None:
        deck.title_slide(printmap.feature_name(deck.units[view.city], view.lang))
        deck.city(view.city)
    else:
        deck.title_slide(say("all_clusters", view.lang))
        order = ([CORRIDOR] if CORRIDOR in clusters else []) + [c for c in clusters if c != CORRIDOR]
        for cid in order:
            deck.cluster(clusters[cid])
    deck.closing()
    return deck.save()


def slide_count(data: bytes) -> int:
    return len(Presentation(io.BytesIO(data)).slides)
