"""Clients that send slowly do not stop the service (issue 22): `atlas serve` puts nginx in
front of gunicorn (server/front.py), which reads each request whole before a worker thread
takes it."""

from __future__ import annotations

import threading
import time
import urllib.error
import urllib.request

import pytest

from tests.support.slowclient import dribble

pytestmark = pytest.mark.slow


def slowest_answer_while_dribbling(base: str, clients: int = 50) -> float:
    """Seconds of the slowest of 40 health checks and API items asked while `clients` slow
    clients hold connections open."""
    stop, opened = threading.Event(), []
    slow = [threading.Thread(target=dribble, args=(base, stop, opened, 200, 30), daemon=True)
            for _ in range(clients)]
    for t in slow:
        t.start()
    try:
        deadline = time.monotonic() + 10
        while len(opened) < clients and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(opened) == clients
        time.sleep(2)  # each has sent part of its headers: without a front, a thread each
        took = []
        for i in range(40):
            url = f"{base}/healthz" if i % 2 else f"{base}/api/collections/projects/items?limit=1&offset={i}"
            start = time.monotonic()
            try:
                with urllib.request.urlopen(url, timeout=5) as response:
                    assert response.status == 200
                    response.read()
            except TimeoutError:
                return float("inf")
            took.append(time.monotonic() - start)
    finally:
        stop.set()
    return max(took)


def test_fifty_slow_clients_leave_health_checks_and_the_api_answering(live_server):
    slowest = slowest_answer_while_dribbling(live_server)
    assert slowest < 2.0, f"slowest answer {slowest:.2f} s while 50 clients dribbled"
