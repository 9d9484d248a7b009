"""One Mapbox Vector Tile layer of points, written directly as protobuf (MVT 2.1), vectorised.

mapbox_vector_tile spends about 200 µs a feature in Python (a shapely object per point,
attribute checks through enums): fine for the atlas's layers, seconds for a tile of a large
point layer. Points need none of its generality — one MoveTo per feature, coordinates already
in tile units, attributes straight from columns — so this writes the layer message with numpy:
each column's values are deduplicated once (`pandas.factorize`), every feature becomes one
row of integers (its key, length, id, tags and geometry fields), and all rows are written as
varints in one pass. About 1 µs a feature.

The bytes are a complete `Tile` holding one layer; `Tile` messages concatenate into one tile
with all their layers (protobuf merges repeated fields), so `server.mvt.encode` appends them
to what mapbox_vector_tile wrote for the other layers.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

VERSION = 2
_SHIFTS = np.arange(10, dtype=np.uint64) * np.uint64(7)


def _varint(n: int, out: bytearray) -> None:
    while n > 0x7F:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)


def _bytes(field: int, data: bytes | bytearray, out: bytearray) -> None:
    _varint((field << 3) | 2, out)
    _varint(len(data), out)
    out += data


def _value(v) -> bytes:
    """A `Value` message: string, bool, int (int_value, or sint_value when negative), double."""
    out = bytearray()
    if isinstance(v, bool):
        out.append(7 << 3)
        _varint(int(v), out)
    elif isinstance(v, int):
        out.append((4 << 3) if v >= 0 else (6 << 3))
        _varint(v if v >= 0 else (-v << 1) - 1, out)  # zigzag for sint
    elif isinstance(v, float):
        out.append((3 << 3) | 1)
        out += struct.pack("<d", v)
    else:
        _bytes(1, str(v).encode(), out)
    return bytes(out)


def _nbytes(t: np.ndarray) -> np.ndarray:
    """Bytes of each (non-negative) integer as a varint."""
    t = t.astype(np.uint64)
    n = np.ones(t.shape, dtype=np.int64)
    for k in range(1, 10):
        n += t >= np.uint64(1 << (7 * k))
    return n


def varints(tokens: np.ndarray, present: np.ndarray) -> bytes:
    """The present tokens (non-negative integers) as varints, in row-major order, one blob."""
    t = tokens.astype(np.uint64)
    n = _nbytes(t)
    b = ((t[..., None] >> _SHIFTS) & np.uint64(0x7F)).astype(np.uint8)
    step = np.arange(10)
    b |= ((step < n[..., None] - 1) * 0x80).astype(np.uint8)  # more bytes follow
    return b[(step < n[..., None]) & present[..., None]].tobytes()


def _zigzag(v: np.ndarray) -> np.ndarray:
    v = v.astype(np.int64)
    return (v << 1) ^ (v >> 63)


Column = tuple[str, np.ndarray, Callable[[object], object]]  # name, values, to a native value


def encode_points(name: str, xy: np.ndarray, columns: Sequence[Column], ids: np.ndarray | None,
                  extent: int) -> bytes:
    """A `Tile` with one layer `name`: point i at integer tile units xy[i] (x right, y down),
    attributes from `columns` (name, values of the n points, a function making each distinct
    value a str/int/float/bool; missing values — None, NaN — are left out) and MVT id ids[i]
    (a non-negative integer; negative: none; `ids` None: no ids)."""
    n = len(xy)
    keys: list[str] = []
    values: dict[tuple[type, object], int] = {}
    tags, tag_present = [], []
    for key, column, native in columns:
        codes, uniques = pd.factorize(np.asarray(column, dtype=object), use_na_sentinel=True)
        if not (codes >= 0).any():
            continue
        made = [native(u) for u in uniques]
        index = np.array([values.setdefault((type(v), v), len(values)) if v is not None else -1
                          for v in made] + [-1], dtype=np.int64)
        value_ids = index[codes]  # code -1 (missing) takes the last entry
        tags += [np.full(n, len(keys)), value_ids]
        present = value_ids >= 0
        tag_present += [present, present]
        keys.append(key)
    k = len(tags)
    tag = np.column_stack(tags) if k else np.zeros((n, 0), dtype=np.int64)
    tag_on = np.column_stack(tag_present) if k else np.zeros((n, 0), dtype=bool)
    tag_len = np.where(tag_on, _nbytes(np.maximum(tag, 0)), 0).sum(axis=1)
    zx, zy = _zigzag(xy[:, 0]), _zigzag(xy[:, 1])
    geom_len = 1 + _nbytes(zx) + _nbytes(zy)
    has_id = np.zeros(n, dtype=bool) if ids is None else ids >= 0
    fid = np.zeros(n, dtype=np.int64) if ids is None else np.maximum(ids, 0)
    feature_len = (np.where(has_id, 1 + _nbytes(fid), 0) + 1 + _nbytes(tag_len) + tag_len
                   + 2 + 1 + _nbytes(geom_len) + geom_len)
    one = np.ones(n, dtype=np.int64)
    on = np.ones(n, dtype=bool)
    rows = [(one * 0x12, on), (feature_len, on),  # layer.features: key, length
            (one * 0x08, has_id), (fid, has_id),  # feature.id
            (one * 0x12, on), (tag_len, on)]  # feature.tags (packed)
    rows += [(tag[:, j], tag_on[:, j]) for j in range(k)]
    rows += [(one * 0x18, on), (one, on),  # feature.type = POINT
             (one * 0x22, on), (geom_len, on), (one * 9, on), (zx, on), (zy, on)]  # MoveTo 1
    tokens = np.column_stack([np.maximum(r, 0) for r, _ in rows])
    present = np.column_stack([p for _, p in rows])
    layer = bytearray()
    _bytes(1, name.encode(), layer)
    layer += varints(tokens, present)
    for key in keys:
        _bytes(3, key.encode(), layer)
    for (_, v) in values:
        _bytes(4, _value(v), layer)
    layer.append(5 << 3)
    _varint(extent, layer)
    layer.append(15 << 3)
    _varint(VERSION, layer)
    tile = bytearray()
    _bytes(3, layer, tile)
    return bytes(tile)
