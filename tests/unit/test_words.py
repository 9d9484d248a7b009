"""One word list: every word the server shows is in layers/words.py, in both languages, under
one key, and no surface keeps a table of its own."""

from __future__ import annotations

import ast
import re
import string
from pathlib import Path

import pytest

from layers import words

REPO = Path(__file__).resolve().parents[2]
CJK = re.compile(r"[\u3400-\u9fff]")


def fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


@pytest.mark.parametrize("table", [*words.SECTIONS, *words.ENUMS])
def test_every_word_has_chinese_and_english_with_the_same_fields(table):
    entries = (words.SECTIONS | words.ENUMS)[table]
    for key, pair in entries.items():
        assert isinstance(pair, tuple) and len(pair) == 2, (table, key)
        zh, en = pair
        assert isinstance(zh, str) and isinstance(en, str) and zh.strip() and en.strip(), (table, key)
        assert fields(zh) == fields(en), (table, key)


def test_a_key_is_in_one_section_only():
    assert len(words.WORDS) == sum(len(t) for t in words.SECTIONS.values())
    with pytest.raises(ValueError, match="'title'"):
        words._one_key_each({"a": {"title": ("甲", "A")}, "b": {"title": ("乙", "B")}})


def test_say_fills_fields_and_refuses_an_unknown_key():
    assert words.say("line", "en", n=12) == "line 12"
    assert words.say("line", "zh", n=12) == "第 12 行"
    assert words.say("legend", "zh") == "图例"
    with pytest.raises(KeyError):
        words.say("no_such_word", "en")
    assert words.label(words.LEVELS, "national", "en") == "National"
    assert words.label(words.KINDS, "unheard_of", "zh") == "unheard_of"


def test_the_live_map_gets_the_ui_section_in_one_language():
    for lang, pick in (("zh", 0), ("en", 1)):
        ui = words.ui_strings(lang)
        assert ui == {k: pair[pick] for k, pair in words.UI.items()}


def word_tables(path: Path) -> list[int]:
    """Lines of dict literals that pair a Chinese word with another string: a word table."""
    hits = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Dict):
            continue
        for value in node.values:
            elts = value.elts if isinstance(value, ast.Tuple) else []
            texts = [e.value for e in elts if isinstance(e, ast.Constant) and isinstance(e.value, str)]
            if len(elts) == 2 and len(texts) == 2 and CJK.search(texts[0]):
                hits.append(node.lineno)
                break
    return hits


def test_no_surface_keeps_a_word_table_of_its_own():
    found = {}
    for folder in ("server", "layers"):
        for path in sorted((REPO / folder).rglob("*.py")):
            if path == REPO / "layers" / "words.py":
                continue
            if hits := word_tables(path):
                found[str(path.relative_to(REPO))] = hits
    assert found == {}


@pytest.mark.parametrize("module,names", [
    ("server.exports.printmap", ("W", "w")), ("server.exports.deck", ("S", "s")),
    ("server.exports.offline", ("W", "_w")), ("server.view.sourceline", ("WORDS", "_w")),
    ("layers.words", ("T", "tr")),
])
def test_the_old_tables_and_lookups_are_gone(module, names):
    import importlib

    mod = importlib.import_module(module)
    assert [n for n in names if hasattr(mod, n)] == []
