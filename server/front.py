"""nginx in front of `atlas serve`'s gunicorn, started and configured by the atlas itself.

gunicorn's threaded workers give a connection a thread as soon as its first bytes arrive, so
sixteen clients sending their headers a byte a second hold all sixteen threads. nginx reads
each request whole (headers and body, with timeouts) before it passes it on over a Unix
loopback port of its own, so a thread only ever serves a complete request; it also answers the fingerprinted
static files from its own cache. It is transparent: Host and any X-Forwarded-* headers a
client (or a proxy of the deployer's) sent go through unchanged, so links, the response
cache and ATLAS_PROXY_COUNT behave as without it.
"""

from __future__ import annotations

import contextlib
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from string import Template

CANDIDATES = ("nginx", "/usr/sbin/nginx", "/usr/local/sbin/nginx")

# Timeouts and limits: a header or body that dribbles for longer is cut off; a client that
# reads an answer slowly is nginx's to wait for (it buffers), not a worker thread's.
CONFIG = Template("""\
worker_processes 1;
pid $run/nginx.pid;
error_log stderr error;
events { worker_connections 4096; }
http {
    access_log off;
    server_tokens off;
    client_body_temp_path $run/body;
    proxy_temp_path $run/proxy;
    fastcgi_temp_path $run/fastcgi;
    uwsgi_temp_path $run/uwsgi;
    scgi_temp_path $run/scgi;
    client_header_timeout 10s;
    client_body_timeout 10s;
    send_timeout 60s;
    keepalive_timeout 15s;
    client_max_body_size 64k;
    large_client_header_buffers 4 16k;
    proxy_request_buffering on;
    proxy_buffering on;
    proxy_buffers 64 16k;
    proxy_max_temp_file_size 256m;
    proxy_read_timeout 300s;
    proxy_cache_path $run/cache levels=1:2 keys_zone=atlas_static:4m max_size=256m
                     inactive=1h use_temp_path=off;
    upstream atlas {
        server $upstream;
        keepalive 32;
    }
    server {
        listen $listen;
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_set_header Host $$http_host;
        proxy_pass_header Server;
        proxy_pass_header Date;
        location /static/ {
            # fingerprinted, or short-lived and revalidated: the app's Cache-Control decides
            proxy_cache atlas_static;
            proxy_cache_key $$scheme$$http_host$$request_uri;
            proxy_pass http://atlas;
        }
        location / {
            proxy_pass http://atlas;
        }
    }
}
""")


def find_nginx() -> str | None:
    """The nginx binary, if one is installed (Debian puts it in /usr/sbin, often off PATH)."""
    for candidate in CANDIDATES:
        found = shutil.which(candidate)
        if found:
            return found
    return None


@dataclass
class Front:
    """A running nginx: where the app must listen (`upstream`, host:port) and the process."""

    upstream: str
    process: subprocess.Popen

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGQUIT)  # graceful: finish what is in flight
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()


class FrontError(RuntimeError):
    pass


def _die_with_parent() -> None:
    """In the child: nginx stops when `atlas serve` dies, however it dies (Linux)."""
    with contextlib.suppress(Exception):
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def running(nginx: str, host: str, port: int) -> Iterator[Front]:
    """nginx on host:port in front of a loopback port the app is to bind, for a with-block.
    (Not a Unix socket: nginx started as root runs its workers as another user, who could
    not reach a socket in a private folder.)"""
    run = Path(tempfile.mkdtemp(prefix="atlas-front-"))
    run.chmod(0o755)  # nginx's workers make their temp and cache folders in it
    upstream = f"127.0.0.1:{_free_port()}"
    listen = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    (run / "nginx.conf").write_text(CONFIG.substitute(run=run, upstream=upstream, listen=listen))
    process = subprocess.Popen(
        [nginx, "-p", str(run), "-c", str(run / "nginx.conf"), "-g", "daemon off;"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,  # its errors go to our stderr
        preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None)
    time.sleep(0.3)
    if process.poll() is not None:
        shutil.rmtree(run, ignore_errors=True)
        raise FrontError(f"nginx did not start on {listen} (its message is above)")
    front = Front(upstream, process)
    try:
        yield front
    finally:
        front.stop()
        shutil.rmtree(run, ignore_errors=True)
