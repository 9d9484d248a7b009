"""Popup and tooltip HTML for the map's features, in one language.

Safety: every attribute value is escaped here (markupsafe) before it goes into popup or
tooltip HTML; the map page and the offline HTML file show this HTML as it is.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import quote

from markupsafe import escape

from layers.registry import ADMIN_LAYERS
from layers.words import FIGURE_STATUS, KINDS, LEVELS, PRECISIONS, ROLE_TYPES, STATUSES, label, say


def present(value: Any) -> bool:
    if value is None:
        return False
    if isinstance(value, float) and math.isnan(value):
        return False
    return not (isinstance(value, (list, dict, str)) and len(value) == 0)


def _int(value: Any) -> int | None:
    return int(value) if present(value) else None


def _str(value: Any) -> str:
    return str(value) if present(value) else ""


# ---------------------------------------------------------------- popups (escaped HTML)

class Popups:
    """Popup and tooltip HTML for one language. Every value passes through escape()."""

    def __init__(self, meta: dict, lang: str, download: Callable[[str, Any], list[tuple[str, str]]],
                 names: dict[int, dict], park_names: dict[str, dict], root: str | None = ""):
        self.lang = lang
        self.root = root  # the app's script root (citation URLs are root-relative); None: no links
        self.sectors = {s["code"]: s for s in meta.get("sectors", [])}
        self.docs = {d["doc"]: d for d in meta.get("documents", [])}
        self.download = download
        self.names = names  # adcode -> {name_zh, name_en}
        self.park_names = park_names

    def w(self, key: str, **fmt: Any) -> str:
        return say(key, self.lang, **fmt)

    def name(self, zh: Any, en: Any) -> tuple[str, str]:
        zh, en = _str(zh), _str(en)
        return (zh, en) if self.lang == "zh" else (en or zh, zh)

    def unit_name(self, adcode: Any) -> str:
        a = _int(adcode)
        n = self.names.get(a) if a else None
        if not n:
            return str(a or "")
        return n["name_zh"] if self.lang == "zh" else (n["name_en"] or n["name_zh"])

    def sector_name(self, code: str) -> str:
        s = self.sectors.get(code)
        if not s:
            return code
        return s["name_zh"] if self.lang == "zh" else s["name_en"].split(" (")[0]

    def tooltip(self, zh: Any, en: Any, extra: str = "") -> str:
        first, second = self.name(zh, en)
        out = f"<b>{escape(first)}</b>"
        if second and second != first:
            out += f"<br><span class='atl-en'>{escape(second)}</span>"
        if extra:
            out += f"<br><span class='atl-muted'>{escape(extra)}</span>"
        return out

    def _row(self, key: str, value_html: str) -> str:
        return f"<tr><th>{escape(self.w(key))}</th><td>{value_html}</td></tr>"

    def _list(self, items: Iterable[str]) -> str:
        return "、".join(escape(i) for i in items) if self.lang == "zh" else \
            ", ".join(escape(i) for i in items)

    def sources(self, sources: list | None, limit: int = 4) -> str:
        if not sources:
            return ""
        items = []
        for s in sources[:limit]:
            doc = self.docs.get(s.get("doc"), {})
            title = doc.get("title_zh" if self.lang == "zh" else "title_en") or s.get("doc", "")
            year = f" ({doc['year']})" if doc.get("year") else ""
            line = s.get("line", "?")
            line = f"{line}–{s['to']}" if s.get("to") else line
            where: str = escape(self.w('line', n=line))
            if s.get("url") and self.root is not None:
                where = f"<a href='{escape(self.root + s['url'])}' target='_blank' rel='noopener'>{where}</a>"
            items.append(
                f"<li><q>{escape(s.get('quote', ''))}</q><br><span class='atl-muted'>"
                f"{escape(doc.get('code', ''))} {escape(title)}{escape(year)} · {where}</span></li>")
        more = len(sources) - limit
        if more > 0:
            items.append(f"<li class='atl-muted'>{escape(self.w('more', n=more))}</li>")
        head = f"<div class='atl-h'>{escape(self.w('sources'))}</div>"
        return f"{head}<ul class='atl-src'>{''.join(items)}</ul>"

    def as_projects(self, projects: list | None) -> str:
        """A park that a document also lists as a project: drawn once, the project named here."""
        if not projects:
            return ""
        items = "".join(f"<li>{escape(self.name(p.get('name_zh'), p.get('name_en'))[0])}"
                        f"{' (' + escape(str(p['year'])) + ')' if p.get('year') else ''}</li>"
                        for p in projects)
        return f"<div class='atl-h'>{escape(self.w('as_projects'))}</div><ul>{items}</ul>"

    def figures(self, figures: list | None) -> str:
        """One line per figure: the value with its unit once. A damaged value (`defect`) is
        shown as read, with the seed's own words and the reading's note beside it."""
        if not figures:
            return ""

        def visible(text: str) -> str:  # private-use characters (000:279's U+E010) made visible
            return re.sub(r"[\ue000-\uf8ff]", lambda m: f"<U+{ord(m.group()):04X}>", text)

        items = []
        for f in figures:
            metric = f.get("metric_zh") if self.lang == "zh" else \
                (f.get("metric_en") or f.get("metric_zh"))
            written = _str(f.get("value_text")) or _str(f.get("value"))
            unit = _str(f.get("unit"))
            defect = f.get("defect") if isinstance(f.get("defect"), dict) else {}
            value = written
            if defect.get("reading"):
                damaged = _str(defect.get("text"))
                value = written.replace(damaged, defect["reading"]) if damaged and damaged in written \
                    else defect["reading"]
            if unit and re.search(r"\d$", value.strip()):  # the unit only after a bare number
                value = f"{value.strip()}{unit}"
            year = f.get("year")
            status = label(FIGURE_STATUS, f.get("status"), self.lang) if f.get("status") else ""
            when = ", ".join(str(x) for x in (year, status) if x)
            text = f"{escape(metric)}: <b>{escape(value)}</b>" + (f" ({escape(when)})" if when else "")
            if defect.get("reading"):
                note = _str(defect.get("note"))
                as_written = escape(self.w("as_written"))
                text += (f"<br><span class='atl-muted'>{as_written} 「{escape(visible(written))}」"
                         + (f": {escape(note)}" if note else "") + "</span>")
            items.append(f"<li>{text}</li>")
        return f"<div class='atl-h'>{escape(self.w('figures'))}</div><ul>{''.join(items)}</ul>"

    def roles(self, roles: list | None) -> str:
        if not roles:
            return ""
        items = []
        for r in roles:
            text = r.get("text_zh") if self.lang == "zh" else (r.get("text_en") or r.get("text_zh"))
            typ = label(ROLE_TYPES, r.get("type"), self.lang) if r.get("type") else ""
            year = f" ({r['year']})" if r.get("year") else ""
            items.append(f"<li><span class='atl-tag'>{escape(typ)}</span> {escape(text)}"
                         f"<span class='atl-muted'>{escape(year)}</span></li>")
        return f"<div class='atl-h'>{escape(self.w('roles'))}</div><ul>{''.join(items)}</ul>"

    def inferred(self, inferred: dict | None) -> str:
        if not inferred:
            return ""
        items = "".join(f"<li><code>{escape(k)}</code>: {escape(v)}</li>" for k, v in inferred.items())
        return (f"<details><summary>{escape(self.w('inferred'))}</summary>"
                f"<ul class='atl-src'>{items}</ul></details>")

    def catalogue_rows(self, row: dict) -> list[str]:
        rows = [self._row("catalogue_code", escape(row["catalogue_code"]))]
        for key, fld in (("zone_type", "zone_type_zh"), ("approved", "approved")):
            if present(row.get(fld)):
                rows.append(self._row(key, escape(row[fld])))
        if present(row.get("area_ha")):
            rows.append(self._row("area_ha", escape(f"{float(row['area_ha']):,.2f} ha")))
        if present(row.get("leading_industries_zh")):
            rows.append(self._row("leading", self._list(row["leading_industries_zh"])))
        return rows

    def catalogue(self, cat: dict | None) -> str:
        """The catalogue entry a zone comes from (title, code, running number)."""
        if not cat:
            return ""
        doc = self.docs.get(cat.get("doc"), {})
        title = doc.get("title_zh" if self.lang == "zh" else "title_en") or cat.get("doc", "")
        line = (f"<q>{escape(cat.get('name_zh', ''))}</q><br><span class='atl-muted'>{escape(title)} · "
                f"{escape(cat.get('code', ''))} · {escape(self.w('seq', n=cat.get('seq', '?')))}"
                "</span>")
        head = f"<div class='atl-h'>{escape(self.w('catalogue'))}</div>"
        return f"{head}<ul class='atl-src'><li>{line}</li></ul>"

    def downloads(self, layer_id: str, fid: Any) -> str:
        links = self.download(layer_id, fid)
        if not links:
            return ""
        a = " · ".join(f"<a href='{escape(url)}' download>{escape(label)}</a>" for label, url in links)
        return f"<div class='atl-dl'>{escape(self.w('download'))}: {a}</div>"

    def popup(self, layer_id: str, row: dict, fid: Any, precision: str | None = None) -> str:
        first, second = self.name(row.get("name_zh"), row.get("name_en"))
        head = f"<div class='atl-title'>{escape(first)}</div>"
        if second and second != first:
            head += f"<div class='atl-en'>{escape(second)}</div>"
        if layer_id == "parks" and row.get("named_in_documents") is False:
            head += f"<div class='atl-muted'>{escape(self.w('catalogue_only'))}</div>"
        rows = []
        kind = row.get("kind") or (row.get("level") if layer_id in ADMIN_LAYERS else None)
        if present(kind):
            rows.append(self._row("kind", escape(label(KINDS, kind, self.lang))))
        if layer_id == "parks":
            rows.append(self._row("level", escape(label(LEVELS, _str(row.get("level")), self.lang))))
        if present(row.get("status")):
            rows.append(self._row("status", escape(label(STATUSES, row["status"], self.lang))))
        if present(row.get("aliases")):
            rows.append(self._row("aliases", self._list(row["aliases"])))
        if present(row.get("designations")):
            rows.append(self._row("designations", self._list(row["designations"])))
        if present(row.get("enterprise")):
            rows.append(self._row("enterprise", escape(row["enterprise"])))
        if present(row.get("park")):
            p = self.park_names.get(row["park"], {})
            rows.append(self._row("park", escape(self.name(p.get("name_zh") or row["park"],
                                                             p.get("name_en"))[0])))
        if present(row.get("sectors")):
            rows.append(self._row("sectors", self._list(self.sector_name(s) for s in row["sectors"])))
        if present(row.get("industries_zh")):
            rows.append(self._row("industries", self._list(row["industries_zh"])))
        if layer_id == "parks" and present(row.get("catalogue_code")):
            rows += self.catalogue_rows(row)
        if layer_id == "clusters" and present(row.get("zones")):
            names = [self.name(self.park_names.get(z, {}).get("name_zh") or z,
                               self.park_names.get(z, {}).get("name_en"))[0] for z in row["zones"]]
            rows.append(self._row("zones", self._list(names)))
        if layer_id in ("cities", "counties"):
            rows.append(self._row("n_parks", escape(str(row.get("n_parks", 0)))))
            rows.append(self._row("n_projects", escape(str(row.get("n_projects", 0)))))
        if precision:
            cls = "atl-approx" if precision in ("town", "district", "county", "city", "province") else ""
            rows.append(self._row("precision", f"<span class='{cls}'>"
                                  f"{escape(label(PRECISIONS, precision, self.lang))}</span>"))
        members = ""
        if layer_id in ("clusters", "cluster_lines") and present(row.get("members")):
            roles = {m["adcode"]: m for m in (row.get("member_roles") or [])}
            items = []
            for a in row["members"]:
                r = roles.get(a)
                role = ""
                if r:
                    role = r.get("role_zh") if self.lang == "zh" else (r.get("role_en") or r.get("role_zh"))
                    role = f" — {escape(role)}"
                items.append(f"<li>{escape(self.unit_name(a))}{role}</li>")
            tag = "ol" if row.get("ordered") else "ul"
            head_html = f"<div class='atl-h'>{escape(self.w('members_in_order'))}</div>"
            members = f"{head_html}<{tag}>{''.join(items)}</{tag}>"
            if self.root is not None:  # the cluster's own view: members, roles, its parks and projects
                href = f"{self.root}/cluster/{quote(str(row.get('id', '')))}"
                href += "?lang=en" if self.lang == "en" else ""
                members += (f"<div class='atl-dl'><a class='atl-open-cluster' href='{escape(href)}'>"
                            f"{escape(self.w('open_cluster'))} →</a></div>")
        note = f"<div class='atl-note'>{escape(row['note'])}</div>" if present(row.get("note")) else ""
        table = f"<table class='atl-t'>{''.join(rows)}</table>" if rows else ""
        body = (head + table + members + self.as_projects(row.get("projects"))
                + self.roles(row.get("roles")) + self.figures(row.get("figures"))
                + self.sources(row.get("sources")) + self.catalogue(row.get("catalogue"))
                + self.inferred(row.get("inferred")) + note
                + self.downloads(layer_id, fid))
        return f"<div class='atl-pop'>{body}</div>"
