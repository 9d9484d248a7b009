"""The render ration (server/exports/renders.py): one render per view however many ask at
once, no more than `slots` at a time, and a byte bound that counts keys too."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from server.exports.renders import Busy, Renders


def test_eight_requests_for_one_view_at_once_cost_one_render():
    renders, gate, calls = Renders(), threading.Event(), []

    def make() -> bytes:
        calls.append(1)
        gate.wait(5)
        return b"png"

    with ThreadPoolExecutor(8) as pool:
        futures = [pool.submit(renders.get_or_make, "view", make, 1 << 20, 2) for _ in range(8)]
        while not calls:
            time.sleep(0.001)
        gate.set()
        assert [f.result(5) for f in futures] == [b"png"] * 8
    assert calls == [1] and renders.made == 1


def test_a_render_past_the_slots_is_refused_at_once_and_later_made():
    renders, gate = Renders(), threading.Event()
    with ThreadPoolExecutor(2) as pool:
        first = pool.submit(renders.get_or_make, "a", lambda: (gate.wait(5), b"a")[1], 1 << 20, 1)
        while not renders._running:
            time.sleep(0.001)
        with pytest.raises(Busy) as busy:
            renders.get_or_make("b", lambda: b"b", 1 << 20, 1)
        assert busy.value.retry_after > 0
        gate.set()
        assert first.result(5) == b"a"
    assert renders.get_or_make("b", lambda: b"b", 1 << 20, 1) == b"b"


def test_a_failed_render_is_not_kept_and_the_next_request_tries_again():
    renders = Renders()

    def broken() -> bytes:
        raise ValueError("no")

    with pytest.raises(ValueError):
        renders.get_or_make("v", broken, 1 << 20, 1)
    assert renders.get_or_make("v", lambda: b"ok", 1 << 20, 1) == b"ok"


def test_kept_renders_stay_within_the_bound_counting_their_keys():
    renders, limit = Renders(), 4000
    for i in range(200):
        renders.get_or_make(("k" * 200, i), lambda: b"x" * 100, limit, 1)
        assert renders.nbytes <= limit
    # 100-byte bodies under 200-byte keys: counting bodies alone would keep 40, not 10 or so
    assert len(renders._kept) < 20
