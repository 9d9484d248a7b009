"""The print map's label placer without an app: a label takes the first place free of symbols
and other labels (server/exports/labels.py; tests/web/test_labels.py places the names of the
real build)."""

from __future__ import annotations

from server.exports import labels


def test_a_label_takes_the_first_free_place():
    placer = labels.Placer()
    placer.occupy((0, 0, 10, 10), symbol=True)
    assert placer.widest_at(5, 5) == 5 and placer.widest_at(50, 50) == 0
    assert placer.take_first_free([(5, 5, 15, 15), (20, 0, 30, 10)]) == 1
    assert placer.take_first_free([(25, 5, 28, 8)]) is None  # taken by the label just placed
