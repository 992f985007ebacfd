"""Revision diffs: unified lines, changed words marked, only the fields that changed."""

from __future__ import annotations

from webapp.questions.diffs import line_diff


def test_a_changed_line_marks_only_the_words_that_changed() -> None:
    lines = line_diff("The app runs on WSGI.\nSame line.", "The app runs on ASGI.\nSame line.")
    assert [(line.kind, line.text) for line in lines] == [
        ("removed", "The app runs on WSGI."), ("added", "The app runs on ASGI."), ("same", "Same line.")]
    assert [piece for piece in lines[1].pieces if piece[0]] == [(True, "ASGI")]
    assert [piece for piece in lines[0].pieces if piece[0]] == [(True, "WSGI")]


def test_added_and_removed_blocks_of_different_sizes() -> None:
    lines = line_diff("a\nb", "a\nb\nc\nd")
    assert [(line.kind, line.text) for line in lines] == [("same", "a"), ("same", "b"), ("added", "c"),
                                                          ("added", "d")]
    assert all(not line.pieces for line in lines)
