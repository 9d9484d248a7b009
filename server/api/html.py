"""The API's documents as HTML (`f=html`), from Jinja templates with autoescaping, so no value
from the data or the URL reaches the page unescaped. Framework-free: its own environment."""

from __future__ import annotations

import json
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

_env = Environment(loader=FileSystemLoader(Path(__file__).resolve().parent.parent / "templates"),
                   autoescape=select_autoescape(default=True), trim_blocks=True, lstrip_blocks=True,
                   finalize=lambda value: "" if value is None else value)  # None prints as nothing
_env.filters["pretty"] = lambda value: json.dumps(value, ensure_ascii=False, indent=1)

TEMPLATES = {"collections", "collection", "items", "feature", "openapi"}


def _title(kind: str, doc: dict) -> str:
    if kind == "collections":
        return "Collections · 图层"
    if kind == "items":
        return "Features · 要素"
    if kind == "feature":
        return str(doc["properties"].get("name_zh") or doc["id"])
    if kind == "openapi":
        return doc["info"]["title"]
    return doc.get("title") or kind.title()


def to_html(kind: str, doc: dict) -> bytes:
    """One API document (landing, conformance, collections, collection, items, feature,
    openapi) as an HTML page."""
    template = _env.get_template(f"api/{kind if kind in TEMPLATES else 'document'}.html")
    links = [] if kind == "openapi" else doc.get("links", [])
    collection = next((link["href"] for link in links if link["rel"] == "collection"), "")
    return template.render(title=_title(kind, doc), doc=doc, links=links, collection=collection,
                           provenance=doc.get("provenance")).encode()
