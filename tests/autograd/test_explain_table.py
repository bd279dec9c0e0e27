"""Laying out the walk's table (``autograd.explain_table``)."""

from __future__ import annotations

from gradwalk.autograd.explain_table import fit, longest_word, row, row_lines, wrap


def test_wrap_breaks_at_spaces_then_dots_then_inside_words():
    assert wrap("grad * w", 20) == ["grad * w"]
    assert wrap("sum over dim 0 of (grad * w)", 12) == ["sum over dim", "0 of (grad *", "w)"]
    assert wrap("step 4 model.2.weight.grad", 12) == ["step 4", "model.2.", "weight.grad"]
    assert wrap("[[0.1085, 0.3888]]", 9) == ["[[0.1085,", "0.3888]]"]  # numbers stay whole
    assert wrap("abcdefghijkl", 5) == ["abcde", "fghij", "kl"]
    text = "x.grad = [1, 2, 3] + [4, 5, 6] = [5, 7, 9]"
    for w in (6, 10, 17):
        parts = wrap(text, w)
        assert max(len(p) for p in parts) <= w and " ".join(parts).split() == text.split()


def test_fit_shrinks_to_the_width_keeping_words_where_it_can():
    head = ("step", "node", "rule", "to")
    widths = fit([4, 16, 40, 30], head, 60, words=[1, 14, 8, 11])
    assert sum(widths) + 6 <= 60 and widths[:2] == [4, 16]
    assert widths[2] >= 8 and widths[3] >= 11
    # too narrow for the words: the floors fall back to the headers
    widths = fit([4, 16, 40, 30], head, 30, words=[1, 16, 16, 16])
    assert sum(widths) + 6 <= 30
    assert fit([4, 5, 5, 5], head, 100) == [4, 5, 5, 5]  # already fits: unchanged


def test_rows_wrap_into_lines():
    lines = row_lines(("12", "MulBackward0 (c)", "grad * w"), [4, 12, 8])
    assert [ln.rstrip() for ln in lines] == ["  12  MulBackward0  grad * w", "      (c)"]
    assert row(("1", "a"), [3, 2]) == "  1  a "
    assert longest_word("") == 0
