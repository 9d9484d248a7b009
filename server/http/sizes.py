"""What a cached entry holds in memory besides its body — its key and headers — so every
byte bound counts them (a long Host or query in each of ten thousand keys is memory too);
and the map pages' share of a bound, the same in the response cache and the fast path."""

from __future__ import annotations

import sys
from typing import Any


def held(value: Any) -> int:
    """Bytes CPython holds for `value`, counting what tuples, lists, sets and dicts contain
    (shared objects are counted each time: an upper bound)."""
    if isinstance(value, (tuple, list, set, frozenset)):
        return sys.getsizeof(value) + sum(held(item) for item in value)
    if isinstance(value, dict):
        return sys.getsizeof(value) + sum(held(k) + held(v) for k, v in value.items())
    return sys.getsizeof(value)


def page_share(limit: int) -> int:
    """The map pages' part of a byte bound: a quarter, so that browsing many views never
    pushes out the API's answers (each page is ~1.4 MB, an API answer a few kB)."""
    return limit // 4


def exact(body: bytes) -> bytes:
    """`body` in an allocation of its own length. orjson's dumps hands back its growing
    buffer, up to twice the length it reports: what a cache keeps must be what it counts."""
    return bytes(memoryview(body))
