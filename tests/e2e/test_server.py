"""`atlas serve`, the production server, answers (tests/web/test_server.py checks the app)."""

from __future__ import annotations


def test_real_server_answers(live_server):
    import urllib.request

    with urllib.request.urlopen(f"{live_server}/healthz", timeout=5) as response:
        assert response.status == 200
        # the production server: gunicorn on Linux, waitress (ident "atlas") elsewhere
        assert response.headers["Server"] in ("gunicorn", "atlas")


def test_forwarded_headers_from_a_peer_are_not_trusted_without_a_proxy_count(live_server):
    """With ATLAS_PROXY_COUNT unset, a client on loopback that says it came over https (or
    from another host) does not get links to that scheme or host: the server in front of the
    app takes no X-Forwarded-* header of its own accord either."""
    import json
    import urllib.request

    request = urllib.request.Request(f"{live_server}/api/?f=json", headers={
        "X-Forwarded-Proto": "https", "X-Forwarded-Host": "atlas.example.org",
        "X-Forwarded-Ssl": "on", "X-Forwarded-Protocol": "ssl"})
    with urllib.request.urlopen(request, timeout=5) as response:
        links = [link["href"] for link in json.load(response)["links"]]
    assert links and all(href.startswith(f"{live_server}/") for href in links), links
