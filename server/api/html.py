"""The API's documents as HTML (`f=html`), from the autoescaped templates in
server/templates/api/ (server/view/templates.py)."""

from __future__ import annotations

from server.view.templates import render

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
    links = [] if kind == "openapi" else doc.get("links", [])
    collection = next((link["href"] for link in links if link["rel"] == "collection"), "")
    return render(f"api/{kind if kind in TEMPLATES else 'document'}.html", title=_title(kind, doc),
                  doc=doc, links=links, collection=collection, provenance=doc.get("provenance")).encode()
