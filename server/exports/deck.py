"""Briefing decks (PowerPoint, 16:9) built with python-pptx: the deck of one view.

A deck has a title slide; the view's map (a picture at slide resolution, from
server.exports.printmap, with its legend beside it as editable text); then the view's tables:
for a cluster its members in the document's order with their roles, and the parks and
projects in them that share its industries (the cluster view's selection,
server.view.rules.along_cluster); for a city its roles (定位, 称号, 主导产业, with years), parks,
projects and targets; for the province the clusters and the parks and projects under the
view's filters. Every row cites its document and line. A closing slide lists the documents
the deck cites — no other — the boundary package and the build date.

Tables flow across slides: each row is as tall as its text needs (measured from the text and
the column widths, so LibreOffice and PowerPoint clip nothing), and the rows are shared out
evenly over the fewest slides that hold them, so no slide carries a lone leftover row.
`scope=all` is the long deck, the corridor and every cluster: minutes of work, made by
`atlas export --per province` (server.exports.batch).
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from lxml import etree
from pptx import Presentation
from pptx.dml.color import RGBColor
from pptx.oxml.ns import qn
from pptx.util import Emu, Inches

from layers import style
from layers.admin import Units
from layers.registry import ADMIN_LAYERS, records
from layers.words import FIGURE_STATUS, KINDS, LEVELS, PRECISION_SHORT, ROLE_TYPES, label, say
from server.exports import printmap
from server.view import rules as viewrules
from server.view.params import View
from server.view.popups import present
from server.view.sourceline import source_line

MAP_DPI = 150  # slide resolution: the 8.9-inch map picture is 1335 px across
SLIDE_W, SLIDE_H = Inches(13.333), Inches(7.5)
FONT = "Microsoft YaHei"  # what PowerPoint and WPS in China have; viewers substitute elsewhere
DARK = RGBColor(0x22, 0x22, 0x22)
MUTED = RGBColor(0x66, 0x66, 0x66)
ACCENT = RGBColor(0xB2, 0x18, 0x2B)
WHITE = RGBColor(0xFF, 0xFF, 0xFF)

# the map slide: the picture on the left, its legend as text on the right
MAP_BOX = (0.3, 1.25, 8.9, 5.95)  # left, top, width, height (inches)
LEGEND_BOX = (9.35, 1.25, 3.75, 5.95)
LEGEND_PT = 14  # legible from the back of a meeting room
LEGEND_LINE_EM = 1.3  # a text box's line in LibreOffice's render (1.2 measured), with slack
LEGEND_OTHER_LINES = 16  # the legend's lines besides the industries, at most (symbols, areas, heads)
MAP_TEXT_SCALE = 1.5  # place names and symbols on the picture, against its 8.9 inches

# tables: where they stand, their type, and how a row's height is measured
TABLE_LEFT, TABLE_TOP, TABLE_BOTTOM = 0.5, 1.3, 7.3  # inches
TABLE_PT = 12
CELL_LR, CELL_TB = 0.08, 0.04  # cell margins (inches)
# A line of CJK text is 1.45 em tall in Noto Sans CJK, LibreOffice's stand-in for YaHei
# (17.4 pt a 12 pt line in its PDF); a little slack on top.
LINE_EM = 1.5


def _font(run, size: float, bold: bool = False, colour: RGBColor = DARK) -> None:
    """Size, weight, colour and YaHei for Latin, East Asian and complex script, written into
    the run's fresh <a:rPr> in schema order (python-pptx's setters, a call each, made a deck's
    thousand cells its slowest part)."""
    rpr = run._r.get_or_add_rPr()
    rpr.set("sz", str(round(size * 100)))
    rpr.set("b", "1" if bold else "0")
    fill = etree.SubElement(rpr, qn("a:solidFill"))
    etree.SubElement(fill, qn("a:srgbClr"), val=str(colour))
    for tag in ("a:latin", "a:ea", "a:cs"):  # East Asian text takes its font from <a:ea>
        etree.SubElement(rpr, qn(tag), typeface=FONT)


Para = tuple[str, float, bool, RGBColor]
Runs = list[tuple[str, float, bool, RGBColor]]  # one paragraph in runs of their own colour


def _text(slide, x, y, w, h, paragraphs: Iterable[Para | Runs]):
    box = slide.shapes.add_textbox(x, y, w, h)
    tf = box.text_frame
    tf.word_wrap = True
    for i, para in enumerate(paragraphs):
        p = tf.paragraphs[0] if i == 0 else tf.add_paragraph()
        for text, size, bold, colour in ([para] if isinstance(para, tuple) else para):
            run = p.add_run()
            run.text = text
            _font(run, size, bold, colour)
    return box


def _em(ch: str) -> float:
    """A character's advance in ems, as LibreOffice sets it: CJK and full-width 1; Latin in
    DejaVu Sans (its stand-in for YaHei's Latin, wider than YaHei's): capitals 0.72, digits
    and small letters 0.64, spaces and light punctuation 0.4."""
    if ord(ch) >= 0x2E80:
        return 1.0
    if ch.isupper() or ch in "mwMW%&@":
        return 0.8 if ch in "mwMW%&@" else 0.72
    return 0.4 if ch in " ()[].,;:'|!ijlrft" else 0.64


def text_lines(text: str, width_pt: float, size: float) -> int:
    """How many lines `text` takes in a box `width_pt` wide at `size` points: Latin words wrap
    whole, CJK text wraps between any two characters."""
    room = width_pt / size  # in ems
    count = 0
    for para in text.split("\n") or [""]:
        tokens = re.findall(r"[\u2e80-\uffff]|[^\s\u2e80-\uffff]+\s*|\s+", para) or [""]
        lines, used = 1, 0.0
        for tok in tokens:
            w = sum(_em(c) for c in tok)
            w_bare = sum(_em(c) for c in tok.rstrip())
            if used + w_bare > room and used > 0:
                lines, used = lines + 1, 0.0
            while w_bare > room:  # a word longer than the line: broken where it must
                lines, w, w_bare = lines + 1, w - room, w_bare - room
            used += w
        count += lines
    return count


def row_height(cells: Sequence[str], widths: Sequence[float], size: float = TABLE_PT) -> float:
    """The height (inches) a table row needs so that none of its cells is cut."""
    lines = max(text_lines(t, (w - 2 * CELL_LR) * 72, size) for t, w in zip(cells, widths))
    return lines * size * LINE_EM / 72 + 2 * CELL_TB


def paginate(heights: Sequence[float], room: float) -> list[range]:
    """Rows shared out over the fewest slides that hold them, as evenly as their heights allow,
    and never a slide with one row while others have several."""
    n = len(heights)
    if n == 0:
        return []
    greedy: list[range] = []
    start, used = 0, 0.0
    for i, h in enumerate(heights):
        if i > start and used + h > room:
            greedy.append(range(start, i))
            start, used = i, 0.0
        used += h
    greedy.append(range(start, n))
    total = sum(heights)
    for k in range(len(greedy), n + 1):
        cuts, acc, j = [0], 0.0, 1
        for i, h in enumerate(heights):
            if j < k and acc + h / 2 > total * j / k and i > cuts[-1]:
                cuts.append(i)
                j += 1
            acc += h
        if len(cuts) < k:
            continue
        pages = [range(a, b) for a, b in zip(cuts, cuts[1:] + [n])]
        fits = all(sum(heights[i] for i in p) <= room or len(p) == 1 for p in pages)
        if fits and (n < 2 or k == 1 or all(len(p) >= 2 for p in pages)):
            return pages
    return greedy


def _year(value: Any) -> str:
    """A year as the documents write it (a frame's missing year is NaN, a present one may be 2015.0)."""
    if not present(value):
        return ""
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


def _catalogue(rec: dict) -> list[dict] | None:
    """A zone known only from the national catalogue cites the catalogue's line."""
    cat = rec.get("catalogue")
    return [cat] if isinstance(cat, dict) and cat.get("doc") and cat.get("line") else None


def _fit_size(text: str, width_pt: float, size: float = 26, smallest: float = 16) -> float:
    """A font size at which `text` fits on one line."""
    ems = sum(_em(ch) for ch in text)
    while size > smallest and ems * size > width_pt:
        size -= 1
    return size


def _title(slide, title: str, subtitle: str = "") -> None:
    paras: list[Para] = [(title, _fit_size(title, 12.3 * 72 * 0.95), True, DARK)]
    if subtitle:
        paras.append((subtitle, 14, False, MUTED))
    _text(slide, Inches(0.5), Inches(0.25), Inches(12.3), Inches(1.0), paras)


def _hex(colour: Any) -> RGBColor:
    """An RGBColor from a matplotlib colour (a '#rrggbb' string or an RGBA tuple over white)."""
    if isinstance(colour, str):
        return RGBColor.from_string(colour.lstrip("#")[:6])
    r, g, b, a = (tuple(colour) + (1.0,))[:4]
    return RGBColor(*(round(255 * (a * c + 1 - a)) for c in (r, g, b)))


def _table(slide, header: list[str], rows: list[list[str]], widths: list[float],
           heights: list[float], head_h: float) -> None:
    shape = slide.shapes.add_table(len(rows) + 1, len(header), Inches(TABLE_LEFT), Inches(TABLE_TOP),
                                   Inches(sum(widths)), Inches(head_h + sum(heights)))
    table = shape.table
    for j, wdt in enumerate(widths):
        table.columns[j].width = Inches(wdt)
    for i, h in enumerate([head_h, *heights]):
        table.rows[i].height = Emu(int(Inches(h)))
    for i, (row, tr) in enumerate(zip([header, *rows], table.rows)):
        for text, cell in zip(row, tr.cells):
            cell.margin_left = cell.margin_right = Inches(CELL_LR)
            cell.margin_top = cell.margin_bottom = Inches(CELL_TB)
            tf = cell.text_frame
            tf.word_wrap = True
            for k, line in enumerate(text.split("\n")):
                p = tf.paragraphs[0] if k == 0 else tf.add_paragraph()
                if line:
                    run = p.add_run()
                    run.text = line
                    _font(run, TABLE_PT, i == 0, WHITE if i == 0 else DARK)
                # the paragraph mark's size: else LibreOffice gives the line the table
                # style's 18 pt and a one-line row grows past the height measured for it
                etree.SubElement(p._p, qn("a:endParaRPr"), sz=str(TABLE_PT * 100))
            cell.fill.solid()
            cell.fill.fore_color.rgb = ACCENT if i == 0 else (
                WHITE if i % 2 else RGBColor(0xF5, 0xF1, 0xEE))


def _footer_scale(sc: printmap.Scene, w: float, h: float, text_scale: float) -> float:
    """The largest text scale, up to `text_scale`, at which the picture's source line (printed
    by printmap's footer: its size and wrapping, in the band under the map) ends inside it;
    a view citing many documents gets a little smaller type rather than a cut line."""
    text = source_line(sc.meta, sc.docs, sc.view.lang, rivers=bool(printmap.hydro()))
    per_em = 9 if sc.view.lang == "zh" else 17
    while text_scale > 0.8:
        scale = math.sqrt(w * h / (11.69 * 8.27)) * text_scale  # as render_figure scales
        lines = len(printmap.wrap(text, int(w * per_em / scale)))
        if lines <= 4 and lines * 6.6 * scale * 1.35 / 72 <= (0.085 - 0.012) * h - 0.03:
            break
        text_scale -= 0.05
    return text_scale


@dataclass
class Table:
    title: str
    header: list[str]
    rows: list[list[str]]
    widths: list[float]  # inches, summing to at most 12.3


class Deck:
    def __init__(self, store, lang: str, approval: str):
        self.store = store
        self.lang = lang
        self.approval = approval
        self.meta = store.meta
        self.codes = {d["doc"]: d["code"] for d in self.meta.get("documents", [])}
        self.cited: set[str] = set()  # documents the deck cites: its tables' and its maps'
        self.prs = Presentation()
        self.prs.slide_width, self.prs.slide_height = SLIDE_W, SLIDE_H
        self.blank = self.prs.slide_layouts[6]
        admin = Units({lid: store.layer(lid) for lid in ADMIN_LAYERS})
        self.units, self.city_of = admin.rows, admin.city_of
        self.sector_index = {s["code"]: i for i, s in enumerate(self.meta.get("sectors", []))}

    def slide(self):
        return self.prs.slides.add_slide(self.blank)

    # ------------------------------------------------------------ slides

    def title_slide(self, subtitle: str) -> None:
        sl = self.slide()
        date = str(self.meta.get("built_at") or "")[:10]
        _text(sl, Inches(0.8), Inches(2.4), Inches(11.7), Inches(2.6), [
            (say("deck", self.lang), 40, True, DARK), (subtitle, 22, False, ACCENT),
            (say("deck_built", self.lang, date=date), 14, False, MUTED)])

    def map_slide(self, view: View, title: str, subtitle: str) -> None:
        sl = self.slide()
        _title(sl, title, subtitle)
        sc = printmap.scene(self.store, replace(view, paper="16:9", dpi=MAP_DPI))
        x, y, w, h = MAP_BOX
        lx, _, lw, _ = LEGEND_BOX
        capacity = h * 72 / (LEGEND_PT * LEGEND_LINE_EM)
        # The legend is known once the map is drawn; its industries (a line each) can be
        # counted before, so the picture is drawn once, at the width the legend leaves it.
        industries = {(r.get("sectors") or [None])[0] for f in sc.points.values() for r in records(f)}
        two = len(industries) + LEGEND_OTHER_LINES > capacity
        for _ in range(2):
            if two:
                # a legend of many industries (the province's) takes two columns and the map
                # gives them the room, rather than the type shrinking below what a room can
                # read; the picture's text shrinks with its width
                lw = 2.9
                lx = 13.333 - 0.25 - 2 * lw
                w = lx - x - 0.15
            picture = self._picture(sc, w, h, MAP_TEXT_SCALE * w / MAP_BOX[2])
            paras = self.legend(sc)
            if two or self._legend_lines(paras, lw) <= capacity:
                break
            two = True
        sl.shapes.add_picture(picture, Inches(x), Inches(y), Inches(w), Inches(h))
        self.cited |= {d["doc"] for d in sc.docs}  # the picture's source line names them
        columns, rest = self._columns(paras, lw, capacity, 2 if two else 1)
        for i, col in enumerate(columns):
            _text(sl, Inches(lx + i * lw), Inches(y), Inches(lw), Inches(h), col)
        if rest:
            # longer still (an English legend of twenty industries): the rest on the next
            # slide, in three columns, rather than type too small to read or cut at the edge
            more = self.slide()
            _title(more, f"{title} · {say('legend', self.lang)}", subtitle)
            columns, _ = self._columns(rest, 4.1, capacity, 3)
            for i, col in enumerate(columns):
                _text(more, Inches(0.5 + i * 4.1), Inches(y), Inches(4.1), Inches(h), col)

    def _columns(self, paras: list[Runs], width: float, capacity: float,
                 n: int) -> tuple[list[list[Runs]], list[Runs]]:
        """Paragraphs poured into `n` columns of `capacity` lines, whole; a section's heading
        never ends a column. Returns the columns and what did not fit."""
        rest = list(paras)
        columns: list[list[Runs]] = []
        for _ in range(n):
            col: list[Runs] = []
            used = 0
            while rest:
                k = self._legend_lines([rest[0]], width)
                if used + k > capacity and col:
                    break
                col.append(rest.pop(0))
                used += k
            while rest and len(col) > 1 and len(col[-1]) == 1:  # a heading: to the next column
                rest.insert(0, col.pop())
            if col:
                columns.append(col)
        return columns, rest

    def _picture(self, sc: printmap.Scene, w: float, h: float,
                 text_scale: float = MAP_TEXT_SCALE) -> io.BytesIO:
        fig = printmap.render_figure(sc, self.approval, size=(w, h), show_title=False,
                                     text_scale=_footer_scale(sc, w, h, text_scale), legend=False)
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=MAP_DPI, facecolor="white")
        buf.seek(0)
        return buf

    @staticmethod
    def _legend_lines(paras: list[Runs], width: float) -> int:
        return sum(text_lines("".join(r[0] for r in p), (width - 0.2) * 72, LEGEND_PT) for p in paras)

    def legend(self, sc: printmap.Scene) -> list[Runs]:
        """The map's legend as text beside the picture: a coloured glyph and its words, one
        paragraph each, for exactly what the picture draws (`sc.drawn`)."""
        lang, drawn = self.lang, sc.drawn or printmap.Drawn()
        grey, dark = _hex(style.LEGEND_SYMBOL), _hex(style.LEGEND_PRECISION)
        sections: list[tuple[str, list[tuple[str, RGBColor, str]]]] = []
        sectors = sorted(drawn.sectors, key=lambda c: self.sector_index.get(c, 99))
        if sectors:
            sections.append((say("industry_key", lang), [
                ("■", _hex(style.sector_colour(c, self.sector_index)), self._sector(c)) for c in sectors]))
        sym: list[tuple[str, RGBColor, str]] = []
        glyphs = {"star": "★", "diamond": "◆", "circle": "●", "square": "■"}
        for (lid, level), key in ((("parks", "national"), "sym_national"),
                                  (("parks", "provincial"), "sym_provincial"),
                                  (("parks", None), "sym_other"), (("projects", None), "sym_project")):
            if (lid, level) in drawn.markers or (key == "sym_other" and any(
                    m[0] == "parks" and m[1] not in ("national", "provincial") for m in drawn.markers)):
                sym.append((glyphs[style.symbol(lid, level).shape], grey, say(key, lang)))
        if drawn.exact:
            sym.append(("●", dark, say("solid", lang)))
        if drawn.approx:
            sym.append(("◌", dark, say("approx", lang)))
        if drawn.catalogue_only:
            sym.append(("◆", _hex((0.53, 0.53, 0.53, style.CATALOGUE_OPACITY)), say("sym_catalogue", lang)))
        if drawn.stacks:
            sym.append(("n", dark, say("stack", lang)))
        if sym:
            sections.append((say("symbols", lang), sym))
        areas: list[tuple[str, RGBColor, str]] = []
        if sc.member_units:
            areas.append(("■", _hex(style.MEMBER), say("member_area", lang)))
        elif "clusters" in sc.polygons and len(sc.polygons["clusters"]):
            areas.append(("□", _hex(style.CLUSTER_AREA), say("clusters_and_groups", lang)))
        areas += [("━", _hex(colour), name) for colour, name in drawn.line_keys]
        if printmap.hydro():
            areas.append(("〜", _hex(style.WATER), say("rivers_lakes", lang)))
        if areas:
            sections.append((say("areas", lang), areas))
        if sc.shading:
            if sc.view.measure.startswith("sector:"):
                sections.append((say("shaded_by", lang) + self._sector(sc.view.measure[7:]), [
                    ("■", _hex(style.SECTOR_SHADE), say("has_sector", lang))]))
            else:
                sections.append((say("shaded_by", lang) + say("m_" + sc.view.measure, lang), [
                    ("■", _hex(c.colour), c.label) for c in sc.classes]))
        paras: list[Runs] = []
        for head, items in sections:
            paras.append([(head, LEGEND_PT, True, DARK)])
            paras += [[(glyph + " ", LEGEND_PT, True, colour), (text, LEGEND_PT, False, DARK)]
                      for glyph, colour, text in items]
        return paras

    def table_slides(self, table: Table) -> None:
        if not table.rows:
            return
        room = TABLE_BOTTOM - TABLE_TOP
        head_h = row_height(table.header, table.widths)
        heights = [row_height(r, table.widths) for r in table.rows]
        pages = paginate(heights, room - head_h)
        for k, page in enumerate(pages):
            sl = self.slide()
            more = f" ({k + 1}/{len(pages)})" if len(pages) > 1 else ""
            _title(sl, table.title + more)
            _table(sl, table.header, [table.rows[i] for i in page], table.widths,
                   [heights[i] for i in page], head_h)

    def closing(self) -> None:
        lang = self.lang
        sl = self.slide()
        _title(sl, say("doc_sources", lang), say("docs_intro", lang))
        paras: list[Para] = []
        for d in self.meta.get("documents", []):
            if d["doc"] not in self.cited:
                continue
            title = d["title_zh"] if lang == "zh" else d["title_en"]
            facts = (d.get("issuer_zh"), d.get("doc_number"), d.get("date") or d.get("year"))
            extra = " · ".join(str(x) for x in facts if x)
            paras.append((f"{d['code']}  {title}", 16, True, DARK))
            paras.append((extra, 13, False, MUTED))
        b = self.meta.get("boundaries") or {}
        pkg = f"{b.get('package', '')} {b.get('version', '')}"
        paras.append((say("boundaries", lang, pkg=pkg), 13, False, MUTED))
        built = str(self.meta.get("built_at") or "")[:10]
        paras.append((say("deck_built", lang, date=built), 13, False, MUTED))
        if self.approval:
            paras.append((say("approval", lang, n=self.approval), 13, False, DARK))
        _text(sl, Inches(0.5), Inches(1.5), Inches(12.3), Inches(5.6), paras)

    # ------------------------------------------------------------ the views

    def cluster(self, rec: dict, view: View) -> None:
        lang = self.lang
        name = printmap.feature_name(rec, lang)
        sectors = [self._sector(c) for c in rec.get("sectors") or []]
        sub = label(KINDS, rec.get("kind"), lang) + (" · " + " · ".join(sectors) if sectors else "")
        if rec.get("sources"):  # where the document names the cluster
            sub += f" · {say('cite', lang)}{'：' if lang == 'zh' else ': '}{self._cite(rec['sources'])}"
        self.map_slide(replace(view, cluster=rec["id"], city=None), name, sub)
        roles = {m["adcode"]: m for m in rec.get("member_roles") or []}
        rows = []
        for i, a in enumerate(rec.get("members") or [], 1):
            a = int(a)
            role = roles.get(a) or {}
            text = (role.get("role_zh") if lang == "zh" else role.get("role_en") or role.get("role_zh")) or \
                say("no_role_short", lang)
            rows.append([str(i), self._unit(a), text, self._cite(role.get("sources"))])
        self.table_slides(Table(f"{name} · {say('members_and_roles', lang)}",
                                [say(k, lang) for k in ("n", "member", "role", "cite")], rows,
                                [0.8, 2.6, 6.3, 2.6]))
        # the cluster view's parks and projects: in a member unit and in one of its industries
        self.points(name, lambda lid, r: viewrules.along_cluster(r, rec), with_city=True)

    def city(self, adcode: int, view: View) -> None:
        lang = self.lang
        unit = self.units[adcode]
        name = printmap.feature_name(unit, lang)
        self.map_slide(view, name, self._filters(view))
        self.roles(adcode, name)
        if set(view.layers) & {"parks", "projects"}:
            self.points(name, lambda lid, r: lid in view.layers and viewrules.point_visible(
                lid, r, sector=view.sector, city=adcode, kind=view.kind, level=view.level,
                named=view.named), with_city=False)
        self.figures(adcode, name)

    def province(self, view: View) -> None:
        """The province under the view's filters: the map, the clusters it shows, the parks
        and projects per city, and — when a filter narrows them — their lists."""
        lang = self.lang
        title = say("title", lang)
        self.map_slide(view, title, self._filters(view))
        visible = [r for r in records(self.store.layer("clusters")) if viewrules.area_visible(
            r, viewrules.member_cities(r.get("members") or [], self.city_of), sector=view.sector)]
        if "clusters" in view.layers or "cluster_lines" in view.layers:
            rows = [[printmap.feature_name(r, lang), label(KINDS, r.get("kind"), lang),
                     "、".join(self._sector(c) for c in r.get("sectors") or []),
                     "、".join(self._unit(int(a)) for a in r.get("members") or []),
                     self._cite(r.get("sources"))] for r in visible]
            self.table_slides(Table(f"{title} · {say('deck_clusters', lang)}",
                                    [say(k, lang) for k in ("name", "kind", "sectors", "member", "cite")],
                                    rows, [3.2, 1.3, 2.3, 3.0, 2.5]))

        def keep(lid: str, r: dict) -> bool:
            return lid in view.layers and viewrules.point_visible(
                lid, r, sector=view.sector, kind=view.kind, level=view.level, named=view.named)

        counts: dict[int, list[int]] = {}
        for i, lid in enumerate(("parks", "projects")):
            for r in records(self.store.layer(lid)):
                if keep(lid, r) and r.get("city_adcode") is not None:
                    counts.setdefault(int(r["city_adcode"]), [0, 0])[i] += 1
        rows = [[self._unit(a), str(n[0]), str(n[1])] for a, n in sorted(counts.items())]
        self.table_slides(Table(f"{title} · {say('per_city', lang)}",
                                [say(k, lang) for k in ("unit", "n_parks", "n_projects")], rows,
                                [4.0, 2.0, 2.0]))
        if view.sector or view.kind or view.level or view.named:
            self.points(title, keep, with_city=True)

    def points(self, name: str, keep, with_city: bool) -> None:
        """Tables of the parks and of the projects `keep(layer, record)` selects."""
        lang = self.lang
        where = [say("city", lang)] if with_city else []
        parks = [r for r in records(self.store.layer("parks")) if keep("parks", r)]
        rows = [[printmap.feature_name(r, lang),
                 *([self._unit(int(r["city_adcode"]))] if with_city else []),
                 " · ".join(label(table, r[key], lang) for key, table in (("kind", KINDS), ("level", LEVELS))
                            if present(r.get(key))),
                 "、".join(self._sector(c) for c in r.get("sectors") or []),
                 self._where(r), self._cite(r.get("sources") or _catalogue(r))] for r in parks]
        head = [say("name", lang), *where,
                *(say(k, lang) for k in ("kind_level", "sectors", "placed_at", "cite"))]
        widths = [3.2, 1.2, 2.0, 2.4, 1.0, 2.5] if with_city else [4.0, 2.2, 2.6, 1.0, 2.5]
        self.table_slides(Table(f"{name} · {say('deck_parks', lang)}", head, rows, widths))
        projects = [r for r in records(self.store.layer("projects")) if keep("projects", r)]
        rows = [[printmap.feature_name(r, lang),
                 *([self._unit(int(r["city_adcode"]))] if with_city else []),
                 "、".join(self._sector(c) for c in r.get("sectors") or []),
                 self._where(r), self._cite(r.get("sources"))] for r in projects]
        head = [say("name", lang), *where, *(say(k, lang) for k in ("sectors", "placed_at", "cite"))]
        widths = [5.2, 1.2, 2.4, 1.0, 2.5] if with_city else [6.4, 2.4, 1.0, 2.5]
        self.table_slides(Table(f"{name} · {say('projects', lang)}", head, rows, widths))

    def roles(self, adcode: int, name: str) -> None:
        """What the documents say of the city and its counties — 定位, 称号, 品牌, 主导产业 — and
        the roles the clusters give it, each with its year and citation."""
        lang = self.lang
        order = list(ROLE_TYPES)
        rows: list[tuple[int, str, list[str]]] = []
        for lid in ("cities", "counties"):
            for r in records(self.store.layer(lid)):
                a = int(r["adcode"])
                if (a != adcode if lid == "cities" else (a == adcode or self.city_of(a) != adcode)):
                    continue
                for role in r.get("roles") or []:
                    text = role["text_zh"] if lang == "zh" else (role.get("text_en") or role["text_zh"])
                    rank = order.index(role["type"]) if role["type"] in order else len(order)
                    rows.append((rank, _year(role.get("year")), [
                        printmap.feature_name(r, lang), label(ROLE_TYPES, role["type"], lang), text,
                        _year(role.get("year")), self._cite(role.get("sources"))]))
        for c in records(self.store.layer("clusters")):
            for m in c.get("member_roles") or []:
                a = int(m["adcode"])
                if a == adcode or self.city_of(a) == adcode:
                    text = m.get("role_zh") if lang == "zh" else (m.get("role_en") or m.get("role_zh"))
                    colon = "：" if lang == "zh" else ": "
                    rows.append((0, _year(c.get("year")), [
                        self._unit(a), label(ROLE_TYPES, "role", lang),
                        f"{printmap.feature_name(c, lang)}{colon}{text}", _year(c.get("year")),
                        self._cite(m.get("sources"))]))
        rows.sort(key=lambda t: t[:2])  # roles, then designations … leading industries; by year
        self.table_slides(Table(f"{name} · {say('deck_roles', lang)}",
                                [say(k, lang) for k in ("unit", "role_type", "statement", "year", "cite")],
                                [r for _, _, r in rows], [1.6, 1.2, 6.1, 0.9, 2.5]))

    def figures(self, adcode: int, name: str) -> None:
        lang = self.lang
        unit = self.units[adcode]
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
                         f"{_year(f.get('year'))} {label(FIGURE_STATUS, f.get('status'), lang)}".strip(),
                         self._cite(f.get("sources"))])
        self.table_slides(Table(f"{name} · {say('figures', lang)}",
                                [say(k, lang) for k in ("metric", "value", "year", "cite")], rows,
                                [5.0, 3.2, 1.6, 2.5]))

    # ------------------------------------------------------------ words

    def _cite(self, sources: list | None) -> str:
        """The first citation of a row (document and line) and how many more the atlas holds
        (their quotes are a click away in the live map): one short line, so that a row stays
        one line tall."""
        sources = sources or []
        if not sources:
            return ""
        doc = sources[0]["doc"]
        self.cited.add(doc)
        first = sources[0]
        line = f"{first['line']}–{first['to']}" if first.get("to") else str(first["line"])
        text = f"{self.codes.get(doc, doc[:3])} {say('line', self.lang, n=line)}"
        return text + (f" (+{len(sources) - 1})" if len(sources) > 1 else "")

    def _filters(self, view: View) -> str:
        parts = [self._sector(view.sector)] if view.sector else []
        if view.kind:
            parts.append(label(KINDS, view.kind, self.lang))
        if view.level:
            parts.append(label(LEVELS, view.level, self.lang))
        if view.named:
            parts.append(say("named_" + view.named, self.lang))
        return say("filters_line", self.lang) + " · ".join(parts) if parts else ""

    def _sector(self, code: str) -> str:
        return printmap.sector_name(self.meta, code, self.lang)

    def _unit(self, adcode: int) -> str:
        return printmap.feature_name(self.units.get(adcode, {}), self.lang) or str(adcode)

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
    """The deck of `view`: its cluster, else its city, else the province under its filters;
    `view.scope == "all"`: the corridor and every cluster (a long render: about a minute)."""
    deck = Deck(store, view.lang, approval)
    clusters = {r["id"]: r for r in records(store.layer("clusters"))}
    if view.scope == "all":
        deck.title_slide(say("all_clusters", view.lang))
        order = ([CORRIDOR] if CORRIDOR in clusters else []) + [c for c in clusters if c != CORRIDOR]
        for cid in order:
            deck.cluster(clusters[cid], View(lang=view.lang))
    elif view.cluster:
        deck.title_slide(printmap.feature_name(clusters[view.cluster], view.lang))
        deck.cluster(clusters[view.cluster], view)
    elif view.city is not None:
        deck.title_slide(printmap.feature_name(deck.units[view.city], view.lang))
        deck.city(view.city, view)
    else:
        deck.title_slide(say("title", view.lang))
        deck.province(view)
    deck.closing()
    return deck.save()


def slide_count(data: bytes) -> int:
    return len(Presentation(io.BytesIO(data)).slides)

