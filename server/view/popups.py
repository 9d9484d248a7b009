"""Popup and tooltip HTML for the map's features, in one language.

This module prepares plain data (texts, numbers, lists of dicts) and hands it to the autoescaped
templates in server/templates/popups/ (one per kind of feature, the shared pieces as macros in
`_parts.html`): no value of the data reaches the HTML unescaped. The map page and the offline
HTML file show this HTML as it is.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from layers.registry import ADMIN_LAYERS
from layers.words import FIGURE_STATUS, KINDS, LEVELS, PRECISIONS, ROLE_TYPES, STATUSES, label, say
from server.view import templates

# the template of each layer's popup; a layer not named here gets the plain frame
KIND_TEMPLATES = {"parks": "popups/park.html", "projects": "popups/project.html",
                  "clusters": "popups/cluster.html", "cluster_lines": "popups/cluster.html",
                  **{lid: "popups/unit.html" for lid in ADMIN_LAYERS}}
# a point placed at one of these is drawn hollow (popup class atl-approx): its real site is not known
APPROX_PRECISIONS = ("town", "district", "county", "city", "province")

Row = dict[str, Any]  # {"label", "value": a text or a list of names, "cls": the value's class or None}


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


def _visible(text: str) -> str:
    """Private-use characters (000:279's U+E010) as <U+E010>, so a reader sees they are there."""
    return re.sub(r"[\ue000-\uf8ff]", lambda m: f"<U+{ord(m.group()):04X}>", text)


class Popups:
    """Popup and tooltip HTML for one language, from the templates in server/templates/popups/."""

    def __init__(self, meta: dict, lang: str, download: Callable[[str, Any], list[tuple[str, str]]],
                 names: dict[int, dict], park_names: dict[str, dict], root: str | None = ""):
        self.lang = lang
        self.root = root  # the app's script root (citation URLs are root-relative); None: no links
        self.sectors = {s["code"]: s for s in meta.get("sectors", [])}
        self.docs = {d["doc"]: d for d in meta.get("documents", [])}
        self.download = download
        self.names = names  # adcode -> {name_zh, name_en}
        self.park_names = park_names
        self.sep = "、" if lang == "zh" else ", "  # between the names of a list
        self.parts = templates.macros("popups/_parts.html")

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

    def _names(self, zh: Any, en: Any) -> tuple[str, str | None]:
        """The name to show first and the other language's, None when it says nothing more."""
        first, second = self.name(zh, en)
        return first, (second if second and second != first else None)

    # ------------------------------------------------------------ tooltip and popup

    def tooltip(self, zh: Any, en: Any, extra: str = "") -> str:
        first, second = self._names(zh, en)
        return templates.render("popups/tooltip.html", first=first, second=second, extra=extra)

    def popup(self, layer_id: str, row: dict, fid: Any, precision: str | None = None) -> str:
        first, second = self._names(row.get("name_zh"), row.get("name_en"))
        context: dict[str, Any] = {
            "first": first, "second": second, "sep": self.sep,
            "rows": self._rows(layer_id, row, precision),
            "roles": self._roles(row.get("roles")), "figures": self._figures(row.get("figures")),
            "sources": self._sources(row.get("sources")), "inferred": self._inferred(row.get("inferred")),
            "note": _str(row.get("note")), "downloads": self._downloads(layer_id, fid)}
        if layer_id == "parks":
            context.update(catalogue_only=self.w("catalogue_only") if row.get("named_in_documents") is False
                           else None, as_projects=self._as_projects(row.get("projects")),
                           catalogue=self._catalogue(row.get("catalogue")))
        if layer_id in ("clusters", "cluster_lines"):
            context["members"] = self._members(row)
        return templates.render(KIND_TEMPLATES.get(layer_id, "popups/feature.html"), **context)

    # ------------------------------------------------------------ the pieces, as HTML

    def sources(self, sources: list | None, limit: int = 4) -> str:
        return str(self.parts.sources(self._sources(sources, limit)))

    def as_projects(self, projects: list | None) -> str:
        """A park that a document also lists as a project: drawn once, the project named here."""
        return str(self.parts.as_projects(self._as_projects(projects)))

    def figures(self, figures: list | None) -> str:
        """One line per figure: the value with its unit once. A damaged value (`defect`) is
        shown as read, with the seed's own words and the reading's note beside it."""
        return str(self.parts.figures(self._figures(figures)))

    def roles(self, roles: list | None) -> str:
        return str(self.parts.roles(self._roles(roles)))

    def inferred(self, inferred: dict | None) -> str:
        return str(self.parts.inferred(self._inferred(inferred)))

    def catalogue_rows(self, row: dict) -> list[str]:
        return [str(self.parts.row(r["label"], r["value"], self.sep, r["cls"]))
                for r in self._catalogue_rows(row)]

    def catalogue(self, cat: dict | None) -> str:
        """The catalogue entry a zone comes from (title, code, running number)."""
        return str(self.parts.catalogue(self._catalogue(cat)))

    def downloads(self, layer_id: str, fid: Any) -> str:
        return str(self.parts.downloads(self._downloads(layer_id, fid)))

    # ------------------------------------------------------------ the pieces, as data

    def _row(self, key: str, value: str | list[str], cls: str | None = None) -> Row:
        return {"label": self.w(key), "value": value, "cls": cls}

    def _rows(self, layer_id: str, row: dict, precision: str | None) -> list[Row]:
        """The table's rows, in order: what the feature is, where, what it makes."""
        rows = []
        kind = row.get("kind") or (row.get("level") if layer_id in ADMIN_LAYERS else None)
        if present(kind):
            rows.append(self._row("kind", label(KINDS, kind, self.lang)))
        if layer_id == "parks":
            rows.append(self._row("level", label(LEVELS, _str(row.get("level")), self.lang)))
        if present(row.get("status")):
            rows.append(self._row("status", label(STATUSES, row["status"], self.lang)))
        for key in ("aliases", "designations"):
            if present(row.get(key)):
                rows.append(self._row(key, [str(x) for x in row[key]]))
        if present(row.get("enterprise")):
            rows.append(self._row("enterprise", str(row["enterprise"])))
        if present(row.get("park")):
            p = self.park_names.get(row["park"], {})
            rows.append(self._row("park", self.name(p.get("name_zh") or row["park"], p.get("name_en"))[0]))
        if present(row.get("sectors")):
            rows.append(self._row("sectors", [self.sector_name(s) for s in row["sectors"]]))
        if present(row.get("industries_zh")):
            rows.append(self._row("industries", [str(x) for x in row["industries_zh"]]))
        if layer_id == "parks" and present(row.get("catalogue_code")):
            rows += self._catalogue_rows(row)
        if layer_id == "clusters" and present(row.get("zones")):
            rows.append(self._row("zones", [self.name(self.park_names.get(z, {}).get("name_zh") or z,
                                                      self.park_names.get(z, {}).get("name_en"))[0]
                                            for z in row["zones"]]))
        if layer_id in ("cities", "counties"):
            rows.append(self._row("n_parks", str(row.get("n_parks", 0))))
            rows.append(self._row("n_projects", str(row.get("n_projects", 0))))
        if precision:
            cls = "atl-approx" if precision in APPROX_PRECISIONS else ""
            rows.append(self._row("precision", label(PRECISIONS, precision, self.lang), cls))
        return rows

    def _catalogue_rows(self, row: dict) -> list[Row]:
        rows = [self._row("catalogue_code", str(row["catalogue_code"]))]
        for key, fld in (("zone_type", "zone_type_zh"), ("approved", "approved")):
            if present(row.get(fld)):
                rows.append(self._row(key, str(row[fld])))
        if present(row.get("area_ha")):
            rows.append(self._row("area_ha", f"{float(row['area_ha']):,.2f} ha"))
        if present(row.get("leading_industries_zh")):
            rows.append(self._row("leading", [str(x) for x in row["leading_industries_zh"]]))
        return rows

    def _title(self, doc: dict, fallback: Any) -> str:
        return doc.get("title_zh" if self.lang == "zh" else "title_en") or fallback

    def _sources(self, sources: list | None, limit: int = 4) -> dict | None:
        if not sources:
            return None
        items = []
        for s in sources[:limit]:
            doc = self.docs.get(s.get("doc"), {})
            line = s.get("line", "?")
            line = f"{line}–{s['to']}" if s.get("to") else line
            href = self.root + s["url"] if s.get("url") and self.root is not None else None
            items.append({"quote": s.get("quote", ""), "code": doc.get("code", ""),
                          "title": self._title(doc, s.get("doc", "")),
                          "year": f" ({doc['year']})" if doc.get("year") else "",
                          "where": self.w("line", n=line), "href": href})
        more = len(sources) - limit
        return {"heading": self.w("sources"), "items": items,
                "more": self.w("more", n=more) if more > 0 else None}

    def _as_projects(self, projects: list | None) -> dict | None:
        if not projects:
            return None
        return {"heading": self.w("as_projects"),
                "items": [{"name": self.name(p.get("name_zh"), p.get("name_en"))[0], "year": p.get("year")}
                          for p in projects]}

    def _figures(self, figures: list | None) -> dict | None:
        if not figures:
            return None
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
            status = label(FIGURE_STATUS, f.get("status"), self.lang) if f.get("status") else ""
            items.append({"metric": metric, "value": value,
                          "when": ", ".join(str(x) for x in (f.get("year"), status) if x),
                          # a damaged value: the document's own words beside the reading
                          "written": _visible(written) if defect.get("reading") else None,
                          "note": _str(defect.get("note"))})
        return {"heading": self.w("figures"), "as_written": self.w("as_written"), "items": items}

    def _roles(self, roles: list | None) -> dict | None:
        if not roles:
            return None
        return {"heading": self.w("roles"), "items": [
            {"type": label(ROLE_TYPES, r.get("type"), self.lang) if r.get("type") else "",
             "text": r.get("text_zh") if self.lang == "zh" else (r.get("text_en") or r.get("text_zh")),
             "year": f" ({r['year']})" if r.get("year") else ""} for r in roles]}

    def _inferred(self, inferred: dict | None) -> dict | None:
        if not inferred:
            return None
        return {"heading": self.w("inferred"), "items": list(inferred.items())}

    def _catalogue(self, cat: dict | None) -> dict | None:
        if not cat:
            return None
        return {"heading": self.w("catalogue"), "name": cat.get("name_zh", ""),
                "title": self._title(self.docs.get(cat.get("doc"), {}), cat.get("doc", "")),
                "code": cat.get("code", ""), "seq": self.w("seq", n=cat.get("seq", "?"))}

    def _downloads(self, layer_id: str, fid: Any) -> dict | None:
        links = self.download(layer_id, fid)
        return {"heading": self.w("download"), "links": links} if links else None

    def _members(self, row: dict) -> dict | None:
        """A cluster's member units, each with its role, and the link to the cluster's view."""
        if not present(row.get("members")):
            return None
        roles = {m["adcode"]: m for m in (row.get("member_roles") or [])}
        items = []
        for a in row["members"]:
            r = roles.get(a)
            role = None
            if r:  # a member with a role entry gets its dash even when the entry's text is empty
                role = r.get("role_zh") if self.lang == "zh" else (r.get("role_en") or r.get("role_zh"))
                role = role or ""
            items.append({"name": self.unit_name(a), "role": role})
        href = None
        if self.root is not None:  # the cluster's own view: members, roles, its parks and projects
            href = f"{self.root}/cluster/{quote(str(row.get('id', '')))}"
            href += "?lang=en" if self.lang == "en" else ""
        return {"heading": self.w("members_in_order"), "tag": "ol" if row.get("ordered") else "ul",
                "items": items, "href": href, "open": self.w("open_cluster")}

