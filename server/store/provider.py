"""The one seam between storage and every surface: what a layer of the build in use answers.

Each backend gives a `Provider` per layer (`BuildStore.provider`): the in-memory layer
(`memory.Prepared`, every layer of the GeoPackage backend and the registered layers of
PostGIS) or a layer the database answers itself (`pgitems.RemoteLayer`, PostGIS's large
layers). The API reads items, one feature, counts and extents only through it, and tiles
through `BuildStore.tile`; neither asks which backend it stands on.
"""

from __future__ import annotations

from typing import Protocol

from layers.registry import Layer
from server.store.query import Query


class Provider(Protocol):
    layer: Layer
    provenance: dict  # the build and the documents its features cite
    built_at: str
    # a large layer: features made when asked, point tiles thinned below full zoom
    lazy: bool

    def __len__(self) -> int:
        """The layer's feature count."""
        ...

    @property
    def extent(self) -> list[float] | None:
        """[minlon, minlat, maxlon, maxlat] of the layer, None when it is empty."""
        ...

    def select_page(self, query: Query) -> tuple[list[dict], int]:
        """The page's GeoJSON Feature dicts in layer order, and how many features match."""
        ...

    def select_one(self, fid: str) -> dict | None:
        """The feature whose id (as text) is `fid`, or None."""
        ...
