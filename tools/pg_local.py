"""A throwaway PostgreSQL + PostGIS server on a loopback port, from Debian's packages.

The tests, `.ci/run` and the benchmarks use it; nothing in `make run` needs it. It runs the
server binaries of the newest /usr/lib/postgresql/<version>/bin in a data folder of its own
(trust authentication, loopback only), as the `postgres` system user when started by root
(PostgreSQL refuses to run as root). A replica is a `pg_basebackup -R` copy of a primary,
streaming from it.

    python tools/pg_local.py start DIR [--port N]     # prints the URL of database `atlas`
    python tools/pg_local.py replica PRIMARY_DIR DIR [--port N]
    python tools/pg_local.py stop DIR
"""

from __future__ import annotations

import argparse
import os
import pwd
import shutil
import socket
import subprocess
import sys
from pathlib import Path

USER = "atlas"  # the database superuser the cluster is made with
DATABASE = "atlas"


class PostgresMissing(RuntimeError):
    """The Debian packages postgresql and postgresql-*-postgis-3 are not installed."""


def bin_dir() -> Path:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"),
                   key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0)
    if not found:
        raise PostgresMissing("PostgreSQL is not installed: tools/system-deps.sh installs the "
                              "Debian packages postgresql and postgresql-15-postgis-3")
    return found[-1].parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_owner(cmd: list[str]) -> list[str]:
    """Run as `postgres` when we are root (initdb and postgres refuse root)."""
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


def _prepare_dir(path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        pw = pwd.getpwnam("postgres")
        os.chown(path, pw.pw_uid, pw.pw_gid)
        path.chmod(0o700)


def _run(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    return subprocess.run(_as_owner(cmd), check=True, capture_output=True, text=True, **kw)


def url(port: int, database: str = DATABASE) -> str:
    return f"postgresql://{USER}@127.0.0.1:{port}/{database}"


def _settings(port: int, data: Path) -> str:
    return (f"port = {port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{data}'\n"
            "wal_level = replica\nmax_wal_senders = 5\nhot_standby = on\nfsync = off\n"
            "synchronous_commit = off\nfull_page_writes = off\nshared_buffers = 128MB\n"
            "max_connections = 200\n")


def _pg_ctl_start(data: Path) -> None:
    log = data / "server.log"
    _run([str(bin_dir() / "pg_ctl"), "-D", str(data), "-l", str(log), "-w", "-t", "60", "start"])


def start(data: Path, port: int | None = None) -> str:
    """Make (first time) and start a primary in `data`; returns the URL of database `atlas`,
    which has PostGIS."""
    port = port or free_port()
    data.parent.mkdir(parents=True, exist_ok=True)  # must be traversable by `postgres`
    if not (data / "PG_VERSION").exists():
        _prepare_dir(data)
        _run([str(bin_dir() / "initdb"), "-D", str(data), "-U", USER, "-A", "trust",
              "-E", "UTF8", "--locale=C.UTF-8"])
        with open(data / "pg_hba.conf", "a") as hba:
            hba.write("host replication all 127.0.0.1/32 trust\n")
    (data / "postgresql.auto.conf").write_text(_settings(port, data))
    _pg_ctl_start(data)
    psql = [str(bin_dir() / "psql"), "-h", "127.0.0.1", "-p", str(port), "-U", USER, "-v",
            "ON_ERROR_STOP=1", "-qAt"]
    exists = _run([*psql, "-d", "postgres", "-c",
                   f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE}'"]).stdout.strip()
    if not exists:
        _run([*psql, "-d", "postgres", "-c", f"CREATE DATABASE {DATABASE}"])
    _run([*psql, "-d", DATABASE, "-c", "CREATE EXTENSION IF NOT EXISTS postgis"])
    return url(port)


def replica(primary_port: int, data: Path, port: int | None = None) -> str:
    """A streaming replica of the primary on `primary_port`, made with pg_basebackup."""
    port = port or free_port()
    _prepare_dir(data)
    _run([str(bin_dir() / "pg_basebackup"), "-h", "127.0.0.1", "-p", str(primary_port), "-U", USER,
          "-D", str(data), "-R", "-X", "stream", "-c", "fast"])
    (data / "postgresql.auto.conf").write_text(
        _settings(port, data)
        + f"primary_conninfo = 'host=127.0.0.1 port={primary_port} user={USER}'\n")
    _pg_ctl_start(data)
    return url(port)


def stop(data: Path) -> None:
    if (data / "postmaster.pid").exists():
        _run([str(bin_dir() / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"])


def remove(data: Path) -> None:
    stop(data)
    shutil.rmtree(data, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    s = sub.add_parser("start")
    s.add_argument("dir", type=Path)
    s.add_argument("--port", type=int)
    r = sub.add_parser("replica")
    r.add_argument("primary", type=Path)
    r.add_argument("dir", type=Path)
    r.add_argument("--port", type=int)
    t = sub.add_parser("stop")
    t.add_argument("dir", type=Path)
    args = parser.parse_args(argv)
    if args.command == "start":
        print(start(args.dir.resolve(), args.port))
    elif args.command == "replica":
        settings = (args.primary / "postgresql.auto.conf").read_text()
        primary_port = int(next(ln.split("=")[1] for ln in settings.splitlines()
                                if ln.startswith("port")))
        print(replica(primary_port, args.dir.resolve(), args.port))
    else:
        stop(args.dir.resolve())
    return 0


if __name__ == "__main__":
    sys.exit(main())
