"""What a read asks of a layer (`Query`) and the JSON-native values every backend answers
with: the same types, the same 6 decimals, the same provenance, whichever backend selected."""

from __future__ import annotations

from dataclasses import dataclass, field

import orjson
import pandas as pd

DECIMALS = 6




def dumps(doc) -> bytes:
    """Fast JSON, Chinese text kept as UTF-8 (not \\u escapes)."""
    return orjson.dumps(doc, option=orjson.OPT_SERIALIZE_NUMPY)


def native(value, ftype: str):
    if ftype == "json":
        return value if isinstance(value, list | dict) else None
    if value is None or (not isinstance(value, list | dict | str) and pd.isna(value)):
        return None
    if ftype == "int":
        return int(value)
    if ftype == "float":
        return float(value)
    if ftype == "bool":
        return bool(value)
    return str(value)


def cited_docs(value, out: set[str]) -> None:
    """Every `doc` named in a (nested) sources/roles/figures/catalogue value."""
    if isinstance(value, dict):
        doc = value.get("doc")
        if isinstance(doc, str):
            out.add(doc)
        for v in value.values():
            cited_docs(v, out)
    elif isinstance(value, list):
        for v in value:
            cited_docs(v, out)


def provenance(meta: dict, cited: set[str] | None = None) -> dict:
    """Where the data comes from: the build and the documents (all, or those cited)."""
    docs = [{k: d.get(k) for k in ("code", "doc", "title_zh", "title_en", "issuer_zh", "year")
             if d.get(k) is not None}
            for d in meta.get("documents", []) if cited is None or d.get("doc") in cited]
    return {"built_at": meta.get("built_at"), "atlas_version": meta.get("atlas_version"),
            "boundaries": meta.get("boundaries"), "documents": docs,
            "seeds_checked": meta.get("seeds_checked")}


@dataclass(frozen=True)
class Query:
    fmt: str = "json"
    bbox: tuple[float, float, float, float] | None = None
    limit: int | None = None
    offset: int = 0
    q: tuple[str, ...] = ()
    filters: tuple[tuple[str, tuple], ...] = ()
    args: tuple[tuple[str, str], ...] = field(default=(), compare=False)

    def describe(self) -> dict:
        out: dict = {}
        if self.bbox:
            out["bbox"] = list(self.bbox)
        if self.q:
            out["q"] = " ".join(self.q)
        for name, values in self.filters:
            out[name] = list(values)
        return out
