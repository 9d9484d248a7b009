"""Vector tiles and TileJSON of every layer: the /tiles routes over the storage's tiles."""
