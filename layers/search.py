"""Search terms, made once at build time and used by both the map's search box and the API's
`q`, so the two always agree on what a word finds.

A feature's terms are its Chinese name and aliases, the short forms planners write
(武汉经济技术开发区 → 武汉经开区, 武汉经开), full pinyin and initials of all of these (with place-name
readings of polyphonic characters: 长阳 changyang, 曾都 zengdu — `geo.names`), and the English
name; lower-case, without spaces. A query word matches a feature when it is a substring of
one of its terms.
"""

from __future__ import annotations

import math
import re
from typing import Any

from geo.names import syllables

# Abbreviations planners write for zone names: suffix -> short forms.
ABBREVIATIONS = [
    ("经济技术开发区", ["经开区", "经开"]), ("高新技术产业开发区", ["高新区", "高新"]),
    ("新技术产业开发区", ["高新区", "高新"]), ("新技术开发区", ["高新区", "高新"]),
    ("高新技术开发区", ["高新区", "高新"]), ("经济开发区", ["经开区", "经开", "开发区"]),
    ("工业园区", ["工业园"]), ("产业园区", ["产业园"]), ("化工园区", ["化工园"]),
]
NAME_FIELDS = ("name_zh", "name_en", "aliases")  # what terms() is made from, in its order
SEARCHED_LAYERS = ("parks", "projects", "clusters", "cluster_lines", "cities", "counties", "provinces")
HAN = re.compile(r"[\u4e00-\u9fff]")


def _text(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value)


def abbreviations(name: str) -> list[str]:
    """Short forms planners use: 武汉经济技术开发区 -> 武汉经开区, 武汉经开, ..."""
    out: list[str] = []
    stem = re.sub(r"^湖北省?", "", name)
    for base in {name, stem, re.sub(r"^(.{2,3}?)市", r"\1", stem)}:
        for suffix, shorts in ABBREVIATIONS:
            if base.endswith(suffix) and len(base) > len(suffix):
                out += [base[: -len(suffix)] + s for s in shorts]
        if base != name:
            out.append(base)
    return sorted({a for a in out if a and a != name})


def pinyin_terms(text: str) -> list[str]:
    """Full pinyin and initials: 襄阳 -> xiangyang, xy."""
    if not text or not HAN.search(text):
        return []
    parts = syllables(text)
    return ["".join(parts).lower(), "".join(s[0] for s in parts if s).lower()]


def terms(name_zh: Any, name_en: Any, aliases: Any = None) -> list[str]:
    names = [n for n in [_text(name_zh), *(aliases if isinstance(aliases, list) else [])] if n]
    found = list(names)
    for n in names:
        short = abbreviations(n)
        found += short + pinyin_terms(n) + [t for s in short for t in pinyin_terms(s)]
    if _text(name_en):
        found.append(_text(name_en))
    seen, out = set(), []
    for t in found:
        key = t.lower().replace(" ", "")
        if key and key not in seen:
            seen.add(key)
            out.append(key)
    return out


def matches(words: tuple[str, ...], feature_terms: list[str]) -> bool:
    """Every word (lower-case) is found in one of the terms."""
    return all(any(w in t for t in feature_terms) for w in words)
