"""The source line printed under a map (exports, the browser's print of a map page): the
documents behind what is drawn, the boundary package and the build date."""

from __future__ import annotations

from layers.words import say


def source_line(meta: dict, docs: list[dict], lang: str, rivers: bool = True) -> str:
    """One line of text; `docs` are the cited documents' manifest entries."""
    if lang == "zh":
        doc_text = "；".join(f"{d['code']}《{d['title_zh']}》（{d.get('year', '')}）" for d in docs)
    else:
        doc_text = "; ".join(f"{d['code']} {d['title_en']} ({d.get('year', '')})" for d in docs)
    b = meta.get("boundaries") or {}
    pkg = f"{b.get('package', '')} {b.get('version', '') or ''}".strip()
    parts = [say("sources_lead", lang) + (doc_text or "—"), say("boundaries", lang, pkg=pkg)]
    if rivers:
        parts.append(say("hydro", lang))
    parts.append(say("built", lang, date=str(meta.get("built_at") or "")[:10]))
    return ("；" if lang == "zh" else "; ").join(parts)
