"""CORS for the read-only surfaces (the API, downloads, tiles, exports): any origin may read,
the data is public."""

from __future__ import annotations

from collections.abc import Iterable

from flask import Blueprint, Response, request

EXPOSED = "ETag, Content-Disposition, Link, X-Atlas-Built-At, X-Atlas-Documents"


def _cors(response: Response) -> None:
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Access-Control-Expose-Headers"] = EXPOSED
    if request.method == "OPTIONS":
        response.headers["Access-Control-Allow-Methods"] = "GET, HEAD, OPTIONS"
        response.headers["Access-Control-Allow-Headers"] = "Accept, If-None-Match, Accept-Encoding"
        response.headers["Access-Control-Max-Age"] = "86400"


def install(blueprint: Blueprint, methods: Iterable[str] = ("GET", "HEAD", "OPTIONS")) -> None:
    """CORS (read-only, any origin: the data is public) for a blueprint's answers."""
    allowed = set(methods)

    @blueprint.after_request
    def _after(response: Response) -> Response:
        if request.method in allowed:
            _cors(response)
        return response
