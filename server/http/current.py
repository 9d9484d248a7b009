"""The store of the app answering this request (create_app puts it in the app's extensions)."""

from __future__ import annotations

from flask import current_app

from server.store import BuildStore


def current_store() -> BuildStore:
    return current_app.extensions["atlas_store"]
