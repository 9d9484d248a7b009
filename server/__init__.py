"""Flask application factory. Views stay thin: they call framework-free functions and adapt."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from flask import Flask, jsonify, render_template, request, send_from_directory
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from layers.build import DEFAULT_OUT
from layers.registry import LAYERS
from server.errors import ApiError, answer, bad
from server.store import AtlasUnavailable, open_store

log = logging.getLogger(__name__)

DEFAULTS: dict[str, Any] = {
    "DATA": str(DEFAULT_OUT),  # the built GeoPackage (the embedded backend, the default)
    "DB": "",  # postgresql://… : serve the database's current build instead (PostGIS backend)
    "DB_REPLICAS": "",  # streaming replicas that take the reads: a list, or URLs split by spaces
    "DB_POLL_SECONDS": 1.0,  # how often a process asks the database whether a new build is in
    # who may frame /embed*: any site by default (the embeds are read-only and hold no session);
    # e.g. "'self' https://intranet.example" restricts it. Every other page is never framed.
    "FRAME_ANCESTORS": "*",
    "API_DEFAULT_LIMIT": 100,  # OGC API items per page when no limit is asked
    "API_MAX_LIMIT": 10000,  # larger limits are clamped to this
    "API_CACHE_SECONDS": 300,  # Cache-Control max-age of the API and downloads (ETag revalidates)
    "RESPONSE_CACHE_BYTES": 64 * 1024 * 1024,  # answers kept per build and process, all codings
    "PROXY_COUNT": 0,  # reverse proxies whose X-Forwarded-* headers are trusted (0: none)
}

CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
       "script-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
       "form-action 'self'")


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """`config` overrides the defaults and the ATLAS_* environment variables."""
    from server import http
    from server.http import assets

    app = Flask(__name__, static_folder=None)  # /static is server.assets (fingerprinted, cached)
    app.add_url_rule("/static/<path:filename>", endpoint="static", view_func=assets.serve)
    app.jinja_env.globals["static_url"] = assets.static_url
    app.config.update(DEFAULTS)
    app.config.from_prefixed_env("ATLAS")
    if config:
        app.config.update(config)
    replicas = app.config["DB_REPLICAS"]
    store = app.extensions["atlas_store"] = open_store(
        Path(app.config["DATA"]), app.config["DB"] or None,
        replicas.split() if isinstance(replicas, str) else list(replicas),
        float(app.config["DB_POLL_SECONDS"]))
    http.install_app(app, store.serving_stamp)
    proxies = int(app.config.get("PROXY_COUNT") or 0)
    if proxies > 0:  # trust X-Forwarded-For/Proto/Host/Prefix from that many proxies; outside
        # the fast path, so its answers are keyed by the forwarded scheme, host and prefix
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies,  # type: ignore[method-assign]
                                x_host=proxies, x_prefix=proxies)

    @app.before_request
    def refuse_nul():  # no text of ours holds one; PostgreSQL cannot even be asked about it
        if "\x00" in request.path or any("\x00" in k or "\x00" in v
                                         for k, v in request.args.items(multi=True)):
            raise bad("a NUL byte (%00) is in the path or a parameter")

    @app.before_request
    def pin_build():  # one build per answer, even when a new one lands mid-request
        store.begin_request()

    @app.teardown_request
    def unpin_build(_exc):
        store.end_request()

    app.json.ensure_ascii = False  # type: ignore[attr-defined]

    @app.after_request
    def security_headers(response):
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        return response

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        return jsonify(code=exc.name.replace(" ", ""), description=exc.description), exc.code

    @app.errorhandler(ApiError)  # every surface's 400s and 404s: {"code", "description"}, not cached
    def api_error(exc: ApiError):
        return http.respond(*answer(exc))

    @app.errorhandler(AtlasUnavailable)
    def unavailable(exc: AtlasUnavailable):
        return jsonify(code="ServiceUnavailable", description=str(exc)), 503

    @app.errorhandler(Exception)
    def internal_error(exc: Exception):
        log.exception("unhandled error on %s", request.path)
        return jsonify(code="InternalServerError", description="internal error"), 500

    @app.get("/healthz")
    def healthz():
        counts = store.counts()
        storage = store.health()
        down = [s for s in storage.get("servers", []) if s["status"] != "ok"]
        problem = store.problem()
        report: dict[str, Any] = {"status": "degraded" if down or problem else "ok"}
        if problem:
            report["reason"] = problem
        return jsonify(**report, built_at=store.meta.get("built_at"), layers=counts, storage=storage)

    @app.get("/favicon.ico")  # browsers ask for it on every site; a 404 here fills logs
    def favicon():
        return send_from_directory(assets.STATIC_DIR, "favicon.ico", max_age=86400,
                                   mimetype="image/vnd.microsoft.icon")

    @app.get("/about")  # layers, counts and sources; the atlas map itself is at / (server.maps)
    def index():
        return render_template("index.html", layers=LAYERS.values(), counts=store.counts(),
                               meta=store.meta)

    from server.api import routes as api
    from server.downloads import routes as downloads
    from server.maps import reader as documents

    app.register_blueprint(api.bp)
    app.register_blueprint(downloads.bp)
    app.register_blueprint(documents.bp)

    from server.maps import routes as maps

    for key, value in maps.CONFIG_DEFAULTS.items():
        app.config.setdefault(key, value)
    app.register_blueprint(maps.bp)

    from server.exports import routes as exports

    for key, export_default in exports.CONFIG_DEFAULTS.items():
        app.config.setdefault(key, export_default)
    app.register_blueprint(exports.bp)

    from server.tiles import routes as tiles

    app.register_blueprint(tiles.bp)
    return app

