"""Storage: the build snapshot each request reads, and the backends that hold it (the embedded
GeoPackage and PostGIS), each answering through one seam (`provider.Provider`, `BuildStore.tile`),
with their spatial index and tiles. Never imports a web surface."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from server.store.snapshot import AtlasStore, AtlasUnavailable, BuildStore, read_atlas, read_meta


def open_store(data: Path | str, db: str | None = None, replicas: Sequence[str] = (),
               poll_seconds: float = 1.0) -> BuildStore:
    """The GeoPackage at `data`, or the PostGIS database `db` (reads from `replicas` first)."""
    if db:
        from server.store.postgis import PostgisStore  # psycopg only where a database is used

        return PostgisStore(db, list(replicas), poll_seconds)
    return AtlasStore(Path(data))


__all__ = ["AtlasStore", "AtlasUnavailable", "BuildStore", "open_store", "read_atlas", "read_meta"]
