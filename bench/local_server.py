"""Loopback servers for the benchmarks: a free port, waiting for an answer, and `atlas serve`
for the length of a with-block (run as `python bench/<name>.py`, so this imports as a module)."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait(url: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer")


@contextlib.contextmanager
def atlas_process(data: Path | str, repo: Path = REPO, *extra: str,
                  seconds: float = 60) -> Iterator[tuple[str, subprocess.Popen]]:
    """`atlas serve` of checkout `repo` on `data` (a GeoPackage, or a postgresql:// URL for the
    PostGIS backend); yields its base URL and process (for its workers' memory), then stops it."""
    port = free_port()
    env = dict(os.environ, PYTHONPATH=str(repo))
    source = ["--db", str(data)] if str(data).startswith("postgresql://") else ["--data", str(data)]
    proc = subprocess.Popen([sys.executable, "-m", "server.cli", "serve", *source,
                             "--port", str(port), *extra], cwd=repo, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        wait(base + "/healthz", seconds)
        yield base, proc
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@contextlib.contextmanager
def atlas_server(data: Path, repo: Path = REPO, *extra: str) -> Iterator[str]:
    """`atlas serve` of checkout `repo` on `data`; yields its base URL, then stops it."""
    with atlas_process(data, repo, *extra) as (base, _):
        yield base
