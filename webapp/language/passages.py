"""An answer as a reader sees it: sentences of the rendered text, with their place in the source.

Sentences are found on the markdown source with code spans and fenced blocks masked, so a
full stop inside `time.sleep` or `e.g.` never ends a sentence; each sentence is then shown
without markup (no ``**``, no backticks, no list bullets, link text without its address).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_FENCE = re.compile(r"^(```|~~~).*?(?:^\1[^\n]*$|\Z)", re.MULTILINE | re.DOTALL)
_CODE_SPAN = re.compile(r"(`+)(.+?)\1", re.DOTALL)
_ABBREVIATION = re.compile(r"\b(?:e\.g|i\.e|etc|vs|cf|approx|incl)\.", re.IGNORECASE)
# A sentence ends at . ! ? followed by space, at a blank line, or before a list item or heading.
_BOUNDARY = re.compile(r"(?<=[.!?])[\"')\]*_]*\s+|\n\s*\n|\n(?=\s*(?:[-*+]|\d+[.)]|#{1,6})\s)")
_LIST_MARK = re.compile(r"^\s*(?:[-*+]|\d+[.)]|#{1,6}|>)\s+")
_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_STRAY_EMPHASIS = re.compile(r"^\s*(?:\*{1,3}|_{1,3}(?!\w))(?=\S)|(?<=[^\w\s])(?:\*{1,3}|_{1,3})\s*$")
# Underscores inside a word (model_dump, by_alias) are not emphasis, as in CommonMark.
_EMPHASIS = re.compile(r"(\*{1,3})(?=\S)(.+?)(?<=\S)\1|(?<!\w)(_{1,3})(?=\S)(.+?)(?<=\S)\3(?!\w)")


@dataclass(frozen=True)
class Sentence:
    text: str  # as rendered: no markup, whitespace collapsed
    start: int  # offsets in the source answer
    end: int


def _masked(source: str) -> str:
    """The source with code spans and abbreviations replaced by same-length filler."""
    def blank(match: re.Match[str]) -> str:
        return re.sub(r"[^\n]", "x", match.group())
    return _ABBREVIATION.sub(blank, _CODE_SPAN.sub(blank, source))


def rendered(fragment: str) -> str:
    """One piece of markdown as plain words: markup dropped, code kept whole (even its ``_`` and ``*``)."""
    text = _FENCE.sub(lambda m: "\n".join(m.group().splitlines()[1:-1]), fragment)
    code: list[str] = []

    def hold(match: re.Match[str]) -> str:
        code.append(match.group(2).strip())
        return f"\x00{len(code) - 1}\x00"
    text = _CODE_SPAN.sub(hold, text)
    text = _LINK.sub(r"\1", text)
    text = "\n".join(_LIST_MARK.sub("", line) for line in text.splitlines())
    text = _EMPHASIS.sub(lambda m: m.group(2) if m.group(1) else m.group(4), text)
    text = _STRAY_EMPHASIS.sub("", text)  # a bold lead-in split from its closing marker at the full stop
    text = re.sub(r"\x00(\d+)\x00", lambda m: code[int(m.group(1))], text)
    return " ".join(text.split())


def _prose_sentences(source: str, offset: int, end: int) -> list[Sentence]:
    masked = _masked(source[offset:end])
    found: list[Sentence] = []
    start = 0
    for boundary in [*_BOUNDARY.finditer(masked), None]:
        stop = boundary.start() if boundary else len(masked)
        piece = masked[start:stop]
        text = rendered(source[offset + start:offset + stop])
        if text:
            lead, trail = len(piece) - len(piece.lstrip()), len(piece) - len(piece.rstrip())
            found.append(Sentence(text, offset + start + lead, offset + stop - trail))
        start = boundary.end() if boundary else stop
    return found


def sentences(source: str) -> list[Sentence]:
    """The answer's sentences in order (a fenced code block is one); empty pieces are dropped."""
    found: list[Sentence] = []
    position = 0
    for fence in [*_FENCE.finditer(source), None]:
        stop = fence.start() if fence else len(source)
        found.extend(_prose_sentences(source, position, stop))
        if fence:
            code = rendered(fence.group())
            if code:
                found.append(Sentence(code, fence.start(), fence.end()))
            position = fence.end()
    return found
