"""HTML fragments and pages outside Flask's request cycle (the API's documents, the offline
map's title and legend, the map's popups and tooltips), from the templates in server/templates/
with autoescaping: no value from the data or the URL reaches the page unescaped. Framework-free:
its own environment."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import orjson
from jinja2 import Environment, FileSystemLoader, select_autoescape

_env = Environment(loader=FileSystemLoader(Path(__file__).resolve().parent.parent / "templates"),
                   autoescape=select_autoescape(default=True), trim_blocks=True, lstrip_blocks=True,
                   finalize=lambda value: "" if value is None else value)  # None prints as nothing
_env.filters["pretty"] = lambda value: json.dumps(value, ensure_ascii=False, indent=1)


def render(name: str, **context: Any) -> str:
    """The template `name` (a path under server/templates/) rendered with `context`."""
    return _env.get_template(name).render(**context)


def macros(name: str) -> Any:
    """The macros of the template `name`, to call from Python: each returns escaped Markup."""
    return _env.get_template(name).module


def json_for_script(data: Any) -> str:
    """JSON safe inside a <script type="application/json"> element (the map page's data, the
    offline file's): the only sequences that can end or re-enter script data there are `</` and
    `<!--`; both are written as JSON escapes, so the parser sees one inert text node whatever
    the strings contain."""
    raw = orjson.dumps(data).decode()
    return raw.replace("</", "<\\/").replace("<!--", "<\\u0021--")
