"""The document reader: each source document's text with line numbers and anchors.

    /documents                  the documents with their manifest (number, date, sha256)
    /documents/<code>           the text, one numbered line per row, anchors #L<n>
    /documents/<code>?line=N    ... with line N (or N-M) highlighted and scrolled to

Every citation in the atlas (popups, cluster views, API `sources[].url`, exports) links
here, so a reader can check a quote against its line without leaving the atlas.
"""

from __future__ import annotations

import re

from flask import Blueprint, abort, render_template, request

from layers.records import join_lines
from server import http
from server.http.current import current_store

bp = Blueprint("documents", __name__)

_LINES = re.compile(r"([1-9][0-9]{0,6})(?:-([1-9][0-9]{0,6}))?")


def parse_lines(text: str | None, n_lines: int) -> tuple[int, int] | None:
    """`N` or `N-M` within the document, or None when absent; ValueError otherwise."""
    if text is None or text == "":
        return None
    m = _LINES.fullmatch(text)  # not match(): `$` would let a trailing newline through
    if not m:
        raise ValueError("line must be N or N-M (line numbers)")
    first = int(m.group(1))
    last = int(m.group(2) or first)
    if last < first or last > n_lines:
        raise ValueError(f"line must lie within 1-{n_lines}, first before last")
    return first, last


def reader(meta_doc: dict, text: dict, lines_param: str | None) -> dict:
    """What the reader page shows; raises ValueError for a bad `line`."""
    lines = text["lines"]
    marked = parse_lines(lines_param, len(lines))
    first, last = marked or (0, -1)
    return {"doc": meta_doc, "lines": lines, "first": first, "last": last,
            "excerpt": join_lines(lines, first, last) if marked else ""}


def _documents() -> list[dict]:
    return current_store().meta.get("documents", [])


@bp.get("/documents")
def index():
    return render_template("documents.html", documents=_documents())


@bp.get("/documents/<code>")
def document(code: str):
    meta_doc = next((d for d in _documents() if d.get("code") == code), None)
    text = current_store().document(code)
    if meta_doc is None or text is None:
        abort(404, description=f"no document {code!r}")
    if set(request.args) - {"line"} or len(request.args.getlist("line")) > 1:
        abort(400, description="the reader takes one parameter: line=N or line=N-M")
    try:
        view = reader(meta_doc, text, request.args.get("line"))
    except ValueError as exc:
        abort(400, description=str(exc))
    snap = current_store().snapshot()

    def make() -> tuple[int, dict, bytes]:
        return 200, {"Content-Type": "text/html; charset=utf-8"}, \
            render_template("document.html", **view).encode()

    return http.cached(("document", snap.meta.get("built_at"), snap.stamp, request.script_root,
                        code, request.args.get("line")), make, max_age=300)
