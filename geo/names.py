"""English names of administrative units: official suffixes, Hanyu Pinyin stems.

Pinyin follows the GB/T 16159 conventions used on Chinese maps: syllables joined, an
apostrophe before a syllable starting with a, o or e (Xian'an), first letter capitalised.
"""

from __future__ import annotations

from pypinyin import lazy_pinyin, load_phrases_dict

# Place-name readings of polyphonic characters that pypinyin reads otherwise (长阳 is not
# zhangyang, 曾都 not cengdou); registered once, used by English names and search alike.
PHRASES = {
    "长阳": [["cháng"], ["yáng"]], "曾都": [["zēng"], ["dū"]], "长飞": [["cháng"], ["fēi"]],
    "长航": [["cháng"], ["háng"]], "蚌埠": [["bèng"], ["bù"]],
}
load_phrases_dict(PHRASES)


def syllables(text: str) -> list[str]:
    """Toneless pinyin syllables of Chinese text, with the place-name readings above."""
    return lazy_pinyin(text, errors="ignore")

ETHNIC = {"土家族": "Tujia", "苗族": "Miao", "侗族": "Dong", "瑶族": "Yao"}

# Longest suffix first; (zh suffix, English suffix by level).
SUFFIXES: tuple[tuple[str, dict[str, str]], ...] = (
    ("自治州", {"city": "Autonomous Prefecture"}),
    ("自治县", {"county": "Autonomous County"}),
    ("林区", {"city": "Forestry District", "county": "Forestry District"}),
    ("省", {"province": "Province"}),
    ("区", {"county": "District"}),
    ("县", {"county": "County"}),
    ("市", {"city": "", "county": "City"}),
)


def pinyin(text: str) -> str:
    """Hanyu Pinyin of a place-name stem, capitalised, with syllable-dividing apostrophes."""
    out = ""
    for i, syllable in enumerate(syllables(text)):
        if i and syllable[:1] in ("a", "o", "e"):
            out += "'"
        out += syllable
    return out[:1].upper() + out[1:]


def _ethnic_part(middle: str) -> str:
    groups = [en for zh, en in ETHNIC.items() if zh in middle]
    return " and ".join(sorted(groups, key=lambda en: middle.index(_zh_of(en))))


def _zh_of(en: str) -> str:
    return next(zh for zh, e in ETHNIC.items() if e == en)


def english_name(name_zh: str, level: str) -> str:
    """`恩施土家族苗族自治州` → `Enshi Tujia and Miao Autonomous Prefecture`."""
    for suffix, by_level in SUFFIXES:
        if name_zh.endswith(suffix) and level in by_level:
            body = name_zh[: -len(suffix)]
            stem, ethnic = body, ""
            first = min((body.find(zh) for zh in ETHNIC if zh in body), default=-1)
            if first > 0:
                stem, ethnic = body[:first], _ethnic_part(body[first:])
            parts = [pinyin(stem), ethnic, by_level[level]]
            return " ".join(p for p in parts if p)
    return pinyin(name_zh)
