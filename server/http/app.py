"""How the app takes server.http: every answer through `finish`, and the fast path in front."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask

from server.http.cache import DEFAULT_CACHE_BYTES
from server.http.fastpath import FastPath
from server.http.negotiation import finish


def install_app(app: Flask, serving: Callable[[], Any]) -> None:
    """Every answer of the app goes through `finish` (the routes' own go through `respond`), and
    `FastPath` replays the cached ones. Install before ProxyFix wraps the app, so the fast
    path sees the forwarded scheme, host and prefix."""
    app.after_request(finish)
    limit = int(app.config.get("RESPONSE_CACHE_BYTES", DEFAULT_CACHE_BYTES))
    app.wsgi_app = app.extensions["atlas_fastpath"] = FastPath(  # type: ignore[method-assign]
        app.wsgi_app, serving, limit)
