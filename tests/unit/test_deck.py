"""How the deck lays its tables out (server/exports/deck.py): rows as tall as their text and
shared out over slides without a lone row. tests/web/test_exports.py checks the decks the app
serves; tests/e2e/test_exports.py renders them in LibreOffice and looks for cut text."""

from __future__ import annotations

import random

import pytest

from server.exports.deck import CELL_TB, LINE_EM, TABLE_PT, paginate, row_height, text_lines


def test_a_line_of_text_wraps_where_the_column_ends():
    assert text_lines("武汉市", 72, 12) == 1  # 3 ems in 6
    assert text_lines("武" * 12, 72, 12) == 2  # 12 ems in 6
    assert text_lines("国家新能源汽车和智能网联汽车产业基地", 72 * 2, 12) == 2  # 18 ems in 12
    assert text_lines("one two three four", 40, 12) == 4  # Latin words wrap whole
    assert text_lines("a\nb", 200, 12) == 2


def test_a_row_is_as_tall_as_its_tallest_cell():
    one = row_height(["武汉市", "汽车"], [2.0, 2.0])
    three = row_height(["武汉市", "智能制造装备、汽车、电子信息、生物医药与医疗器械"], [2.0, 2.0])
    assert one == pytest.approx(TABLE_PT * LINE_EM / 72 + 2 * CELL_TB)
    assert three == pytest.approx(3 * TABLE_PT * LINE_EM / 72 + 2 * CELL_TB)


@pytest.mark.parametrize("seed", range(40))
def test_rows_flow_over_the_fewest_slides_evenly_without_a_lone_row(seed):
    rnd = random.Random(seed)
    n = rnd.randint(2, 80)
    heights = [rnd.choice([0.33, 0.33, 0.33, 0.58, 0.83]) for _ in range(n)]
    room = 5.6
    pages = paginate(heights, room)
    assert [i for p in pages for i in p] == list(range(n))  # every row once, in order
    assert all(sum(heights[i] for i in p) <= room for p in pages)  # no slide overflows
    assert all(len(p) >= 2 for p in pages)  # no lone leftover row
    fewest = -(-sum(heights) // room)
    assert len(pages) <= fewest + 1  # as few slides as the heights allow
    fill = [sum(heights[i] for i in p) for p in pages]
    assert max(fill) - min(fill) <= max(heights) * 2 + 0.01 or len(pages) == 1  # balanced


def test_nine_rows_and_one_more_are_two_slides_of_five():
    # the old deck: 9 rows a slide left a slide holding a single row
    pages = paginate([0.33] * 10, 0.33 * 9)
    assert [len(p) for p in pages] == [5, 5]
