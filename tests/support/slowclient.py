"""A client that sends its request's headers a byte every half second: the slow-client test
(tests/e2e/test_slow_clients.py) and the hostile-load benchmark (bench/reliability.py)."""

from __future__ import annotations

import socket
import threading
import time


def dribble(base: str, stop: threading.Event, opened: list | None = None, padding: int = 400,
            timeout: float = 60) -> None:
    """Hold a connection to `base` open, sending a request's headers (with `padding` bytes of
    one more header) a byte every half second until `stop` is set or they are all sent;
    appends to `opened` once connected."""
    host, port = base.removeprefix("http://").split(":")
    head = b"GET /api/collections/projects/items HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * padding
    try:
        with socket.create_connection((host, int(port)), timeout=timeout) as s:
            if opened is not None:
                opened.append(1)
            for byte in head:
                if stop.is_set():
                    return
                s.sendall(bytes([byte]))
                time.sleep(0.5)
    except OSError:
        return  # cut off by the front's header timeout: what it is for
