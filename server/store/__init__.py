"""Storage: the build snapshot each request reads, and the backends that hold it (the embedded
GeoPackage and PostGIS), with their spatial index and tiles. Never imports a web surface."""

from server.store.snapshot import AtlasStore, AtlasUnavailable, BuildStore, open_store, read_atlas, read_meta

__all__ = ["AtlasStore", "AtlasUnavailable", "BuildStore", "open_store", "read_atlas", "read_meta"]
