"""`atlas serve`, the production server, answers (tests/web/test_server.py checks the app)."""

from __future__ import annotations


def test_real_server_answers(live_server):
    import urllib.request

    with urllib.request.urlopen(f"{live_server}/healthz", timeout=5) as response:
        assert response.status == 200
        # the production server: gunicorn on Linux, waitress (ident "atlas") elsewhere
        assert response.headers["Server"] in ("gunicorn", "atlas")
