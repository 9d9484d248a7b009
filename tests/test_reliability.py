"""Reliability against the production server (`atlas serve`, gunicorn, 2 workers), loopback
only, bounded in time and count: a 64-client load over a mix of routes with zero errors and
bounded memory growth; a corpus of malformed requests that answers only 4xx."""

from __future__ import annotations

import os
import socket
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.conftest import start_server

pytestmark = pytest.mark.slow

MIX = [
    "/api/collections/projects/items?limit=100", "/api/collections/counties/items?limit=20",
    "/api/collections/parks/items?limit=50&offset=50", "/api/collections", "/api/",
    "/download/projects.csv", "/download/parks.geojson", "/", "/map/parks",
    "/map/geometry/counties/lo.json", "/map/geometry/cities/mid.json?datum=gcj02",
    "/documents",
]
CLIENTS, PER_CLIENT = 64, 8


@pytest.fixture(scope="module")
def production(built_atlas):
    proc, base = start_server(built_atlas)
    yield proc, base
    proc.terminate()
    proc.wait(timeout=15)


def _rss_kb(pid: int) -> int:
    """Resident memory of a process and its children (gunicorn's master and workers)."""
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            if int(entry) != pid and int(stat[1]) != pid:
                continue
            status = Path(f"/proc/{entry}/status").read_text()
        except OSError:
            continue
        total += next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS"))
    return total


def _get(url: str, gz: bool) -> int:
    req = urllib.request.Request(url, headers={"Accept-Encoding": "gzip"} if gz else {})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            r.read()
            return r.status
    except urllib.error.HTTPError as exc:
        return exc.code


def _round(base: str) -> list[int]:
    def client(i: int) -> list[int]:
        return [_get(base + MIX[(i + k) % len(MIX)], (i + k) % 2 == 0) for k in range(PER_CLIENT)]

    with ThreadPoolExecutor(CLIENTS) as pool:
        return [s for statuses in pool.map(client, range(CLIENTS)) for s in statuses]


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads memory from /proc")
def test_64_clients_over_a_mix_of_routes_without_errors_or_memory_growth(production):
    proc, base = production
    started = time.monotonic()
    warm = _round(base)  # first round fills the per-build caches
    before = _rss_kb(proc.pid)
    statuses = _round(base) + _round(base)
    after = _rss_kb(proc.pid)
    assert set(warm) | set(statuses) == {200}, sorted(set(statuses))
    assert len(statuses) == 2 * CLIENTS * PER_CLIENT
    assert after - before < 100 * 1024, f"memory grew by {(after - before) // 1024} MB"
    assert time.monotonic() - started < 120


MALFORMED = [
    "/api/collections/projects/items?limit=%2B%2B5", "/api/collections/projects/items?limit=1e309",
    "/api/collections/projects/items?limit=99999999999999999999999",
    "/api/collections/projects/items?limit=NaN", "/api/collections/projects/items?offset=-1",
    "/api/collections/projects/items?offset=inf", "/api/collections/projects/items?limit=1&limit=2",
    "/api/collections/projects/items?bbox=nan,0,1,1", "/api/collections/projects/items?bbox=0,0,inf,1",
    "/api/collections/projects/items?bbox=1e400,0,1,1", "/api/collections/projects/items?bbox=1,2,3",
    "/api/collections/projects/items?unknown=1", "/api/collections/projects/items?limit=%00",
    "/api/collections/projects/items?limit=%ff%fe", "/api/collections/projects/items?limit=" + "9" * 3000,
    "/api/collections/projects/items?limit=1%27%20OR%201%3D1--",
    "/api/collections/projects/items?bbox-crs=EPSG%3A4326", "/api/collections/projects/items?f=xml",
    "/api/collections/%00/items", "/api/collections/..%2f..%2fetc%2fpasswd/items",
    "/api/collections/projects/items/%00", "/api/collections/projects/items/%ff%fe",
    "/api/collections/projects%27%3B%20DROP%20TABLE%20x/items", "/api/conformance?f=json&f=html",
    "/api/collections/counties/items?adcode=not-a-number", "/api/collections/counties/items?adcode=1e999",
    "/download/..%2f..%2fetc%2fpasswd.csv", "/download/projects.exe", "/download/projects.csv?limit=-5",
    "/download/projects.csv?city_adcode=%0d%0aSet-Cookie:%20x=1", "/download/projects.csv?x=%0d%0a",
    "/map/geometry/counties/lo.json?datum=%0d%0aX-Injected:%201", "/map/geometry/../../pyproject.toml",
    "/map/geometry/projects/full.json", "/map/%00", "/cluster/%3Cscript%3E",
    "/static/../pyproject.toml", "/static/%2e%2e/%2e%2e/etc/passwd", "/documents/%00",
    "/documents/P1?line=0", "/documents/P1?line=9999999999", "/export/map.exe",
    "/export/map.png?dpi=nan", "/export/map.png?dpi=1e309", "/export/map.png?paper=%0d%0a",
    "/api/collections/projects/items?" + "&".join(f"p{i}=1" for i in range(500)),
]


def _raw(base: str, target: str) -> tuple[int, bytes]:
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as s:
        s.sendall(f"GET {target} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    head = data.split(b"\r\n\r\n", 1)[0]
    return int(head.split(b" ", 2)[1]), head


def test_malformed_requests_answer_only_4xx(production):
    _, base = production
    for target in MALFORMED + ["/" + "a" * 10000, "/api/collections/projects/items?q=" + "x" * 9000]:
        status, head = _raw(base, target)
        assert 400 <= status < 500, (target[:120], status)
        lowered = head.lower()
        assert b"set-cookie" not in lowered and b"x-injected" not in lowered, target[:120]
