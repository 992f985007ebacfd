"""What a written answer is like as a whole: too short, a keyword list, terms strung together
with filler, or prose that asserts nothing asked; and how sure the grade is."""

from __future__ import annotations

from typing import Any

from webapp.language.words import Token, word_key

TOO_SHORT_WORDS = 12
_JOINERS = {word_key("and"), word_key("plus")}
NOTES = {
    "too_short": "This answer is too short to judge fairly: explain the ideas in full sentences, as you would "
                 "to an interviewer.",
    "keyword_list": "This reads like a list of keywords rather than an explanation, so it earns almost no credit. "
                    "Say what each idea means and why it matters.",
    "filler": "Several of the right terms appear only after filler (\"it is all about the …\", \"then there is "
              "the …\"), which says nothing about them. Say what each one does.",
    "strung_together": "This strings the right terms together with \"and\" rather than saying what they do or why, "
                       "so they earn no credit. Explain each idea in a sentence of its own.",
    "run_on": "Most of this answer is one run-on stretch without sentences, which reads as a list of terms: "
              "it earns no credit. Write it in sentences, as you would say it to an interviewer.",
    "no_claim": "No sentence here says anything this question asks about.",
}
# Flags under which naming a point's terms earns nothing: the answer lists, it does not explain.
UNEXPLAINED = ("keyword_list", "strung_together", "run_on")
RUN_ON_WORDS = 100  # a sentence longer than this is not one a reader parses
# Share of "and"/"plus" among the words above which an answer is terms joined together: on the
# tuning questions of the evaluation set, real answers reach 0.09 and filler-dressed ones start at 0.13.
STRUNG_TOGETHER_SHARE = 0.11


def quality_flags(tokens: list[list[Token]], points: list[dict[str, Any]], *, filler_claims: int,
                  asserted_claims: int) -> tuple[list[str], list[str]]:
    words = [t for sentence in tokens for t in sentence if not t.is_separator]
    flags: list[str] = []
    if len(words) < TOO_SHORT_WORDS:
        flags.append("too_short")
    if len(words) >= 6 and _is_keyword_list(tokens, words):
        flags.append("keyword_list")
    elif 2 * sum(len(s) for s in tokens if len(s) > RUN_ON_WORDS) >= sum(len(s) for s in tokens) > RUN_ON_WORDS:
        flags.append("run_on")
    if len(words) >= 20 and sum(t.key in _JOINERS for t in words) / len(words) >= STRUNG_TOGETHER_SHARE:
        flags.append("strung_together")
    elif filler_claims >= 2 and filler_claims >= asserted_claims:
        flags.append("filler")
    said_nothing = not any(p["verdict"] != "missed" for p in points)
    if len(words) >= TOO_SHORT_WORDS and said_nothing and "keyword_list" not in flags:
        flags.append("no_claim")
    return flags, [NOTES[f] for f in flags]


def _is_keyword_list(tokens: list[list[Token]], words: list[Token]) -> bool:
    """Few grammar words, or many pieces of one to three words each, is a list, not prose."""
    function_share = sum(t.is_function_word for t in words) / len(words)
    pieces: list[int] = []
    for sentence in tokens:
        count = 0
        for token in [*sentence, None]:
            if token is None or token.key in (",", ";"):
                if count:
                    pieces.append(count)
                count = 0
            elif not token.is_separator:
                count += 1
    short_pieces = sum(n <= 3 for n in pieces)
    return function_share < 0.15 or (len(pieces) >= 4 and short_pieces / len(pieces) >= 0.7)


def confidence_of(points: list[dict[str, Any]], flags: list[str], *, score: int, words: int) -> float:
    """How sure the grade is, 0 to 1: conflicting or borderline judgements lower it.

    Deductions, each documented in docs/grading.md: a point both asserted and contradicted
    (0.3), each partly met point (0.08), a contradiction at all (0.1), filler or a keyword
    list (0.2), a score in the middle band 35-70 (0.15), fewer than 30 words (0.1).
    """
    confidence: float = 1.0  # declared: the Any of a point's fields must not make it Any
    confidence -= 0.3 * sum(bool(p.get("conflict")) for p in points)
    confidence -= 0.08 * sum(p["verdict"] == "partly" for p in points)
    confidence -= 0.1 * any(p["verdict"] == "contradicted" for p in points)
    confidence -= 0.2 * bool({"filler", "keyword_list", "strung_together", "run_on"} & set(flags))
    confidence -= 0.15 * (35 <= score <= 70)
    confidence -= 0.1 * (words < 30)
    return round(max(0.0, min(1.0, confidence)), 2)
