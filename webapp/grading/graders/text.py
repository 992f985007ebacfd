"""Rubric grading of written answers: deterministic, and every verdict shows its evidence.

Both the answer and each accepted phrasing are normalised the same way (lower case, words
only, Snowball stemming, synonym groups folded to one token). A phrasing matches when its
tokens occur in order with at most ``MAX_GAP`` other tokens between neighbours. A pattern
is a regular expression over the raw answer. A point is covered when any of its phrasings
or patterns matches; the score is the covered share of the rubric's weight.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from typing import Any

import snowballstemmer

from webapp.grading.graders.base import GradeResult, GradingTask

MAX_GAP = 3
TOO_SHORT_WORDS = 12
TOO_SHORT_CAP = 30
KEYWORD_LIST_FACTOR = 0.3
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_SENTENCE_END = re.compile(r"[.!?\n]")
# Words that carry grammar rather than topic: real explanations are full of them,
# keyword lists are not.
FUNCTION_WORDS = frozenset("""
a an the is are was were be been being it its this that these those there here which who what when
where why how and or but if then so because since while as than to of in on at by for with without
from into onto over under about after before between through during per each every any all some no
not can could should would will may might must do does did has have had you your we our they their
he she his her them i my me one also only just more most very such own same other both either neither
""".split())


@dataclass(frozen=True)
class _Token:
    key: str
    start: int
    end: int
    is_function_word: bool


_local = threading.local()


def _stemmer():  # type: ignore[no-untyped-def]
    # Snowball stemmer objects keep state while stemming: one per grader thread.
    if not hasattr(_local, "stemmer"):
        _local.stemmer = snowballstemmer.stemmer("english")
    return _local.stemmer


class Normaliser:
    """Turns text into comparable tokens; synonym groups collapse to one key."""

    def __init__(self, synonyms: list[list[str]]) -> None:
        self._synonyms: dict[tuple[str, ...], str] = {}
        for index, group in enumerate(synonyms):
            for entry in group:
                stems = tuple(self._stems(entry))
                if stems:
                    self._synonyms.setdefault(stems, f"~{index}")
        self._longest = max((len(k) for k in self._synonyms), default=1)

    @staticmethod
    def _stems(text: str) -> list[str]:
        return _stemmer().stemWords([w.lower() for w in _WORD.findall(text)])

    def tokens(self, text: str) -> list[_Token]:
        words = list(_WORD.finditer(text))
        stems = _stemmer().stemWords([w.group().lower() for w in words])
        tokens: list[_Token] = []
        index = 0
        while index < len(words):
            for size in range(min(self._longest, len(words) - index), 0, -1):
                key = self._synonyms.get(tuple(stems[index:index + size]))
                if key is not None:
                    break
            else:
                size, key = 1, stems[index]
            first, last = words[index], words[index + size - 1]
            tokens.append(_Token(key, first.start(), last.end(), first.group().lower() in FUNCTION_WORDS))
            index += size
        return tokens

    def keys(self, text: str) -> list[str]:
        return [t.key for t in self.tokens(text)]


def find_phrase(answer: list[_Token], phrase: list[str]) -> tuple[int, int, list[int]] | None:
    """(start char, end char, token indexes) of the first in-order match, or None."""
    if not phrase:
        return None
    for first in range(len(answer)):
        if answer[first].key != phrase[0]:
            continue
        used, position = [first], first
        for key in phrase[1:]:
            window = range(position + 1, min(len(answer), position + MAX_GAP + 2))
            position = next((i for i in window if answer[i].key == key), -1)
            if position < 0:
                break
            used.append(position)
        else:
            return answer[used[0]].start, answer[used[-1]].end, used
    return None


def excerpt(text: str, start: int, end: int, limit: int = 200) -> str:
    """The sentence around a match, trimmed to ``limit`` characters."""
    left = max((m.end() for m in _SENTENCE_END.finditer(text, 0, start)), default=0)
    right_match = _SENTENCE_END.search(text, end)
    right = right_match.end() if right_match else len(text)
    sentence = " ".join(text[left:right].split())
    if len(sentence) <= limit:
        return sentence
    middle = (start + end) // 2 - left
    begin = max(0, min(middle - limit // 2, len(sentence) - limit))
    return ("…" if begin else "") + sentence[begin:begin + limit].strip() + "…"


class RubricGrader:
    name = "rubric"
    version = "1"
    long_running = False

    def __init__(self, synonyms: list[list[str]] | None = None) -> None:
        self.normaliser = Normaliser(synonyms or [])

    def grade(self, task: GradingTask) -> GradeResult:
        text = task.answer_text
        tokens = self.normaliser.tokens(text)
        points = [self._judge(rubric_point, text, tokens) for rubric_point in task.rubric]
        total = sum(p["weight"] for p in points) or 1
        covered = sum(p["weight"] for p in points if p["covered"])
        score = round(100 * covered / total)
        vocabulary = {key for p in task.rubric for phrase in p.get("phrases", []) for key in self.normaliser.keys(phrase)}
        flags, notes = self._quality(tokens, vocabulary)
        if "keyword_list" in flags:
            score = round(score * KEYWORD_LIST_FACTOR)
        if "too_short" in flags:
            score = min(score, TOO_SHORT_CAP)
        feedback = {"kind": "rubric", "points": points, "covered_weight": covered, "total_weight": total,
                    "word_count": len(tokens), "flags": flags, "notes": notes}
        return GradeResult(score=score, feedback=feedback)

    def _judge(self, rubric_point: dict[str, Any], text: str, tokens: list[_Token]) -> dict[str, Any]:
        verdict: dict[str, Any] = {
            "point": rubric_point["point"], "weight": rubric_point["weight"], "covered": False,
            "matched": None, "evidence": None, "span": None,
            "hint": rubric_point.get("hint") or None, "docs": rubric_point.get("docs") or None,
        }
        for phrase in rubric_point.get("phrases", []):
            found = find_phrase(tokens, self.normaliser.keys(phrase))
            if found:
                start, end, _ = found
                verdict.update(covered=True, matched=phrase, span=[start, end])
                break
        else:
            for pattern in rubric_point.get("patterns", []):
                match = re.search(pattern, text, re.IGNORECASE)
                if match and match.end() > match.start():
                    verdict.update(covered=True, matched=pattern, span=[match.start(), match.end()])
                    break
        if verdict["covered"]:
            verdict["evidence"] = excerpt(text, *verdict["span"])
            verdict["hint"] = verdict["docs"] = None
        return verdict

    @staticmethod
    def _quality(tokens: list[_Token], vocabulary: set[str]) -> tuple[list[str], list[str]]:
        """Flags for answers that cannot be judged as explanations.

        A keyword list is told from prose by its lack of grammar words and by content
        words drawn almost only from the rubric's own phrasings (real answers, measured on
        the bank's calibration answers, stay under 70 %).
        """
        flags: list[str] = []
        notes: list[str] = []
        if len(tokens) < TOO_SHORT_WORDS:
            flags.append("too_short")
            notes.append("This answer is too short to judge fairly: explain the ideas in full sentences, "
                         "as you would to an interviewer.")
        content = [t for t in tokens if not t.is_function_word]
        if len(tokens) >= 6 and content:
            function_share = 1 - len(content) / len(tokens)
            rubric_share = sum(t.key in vocabulary for t in content) / len(content)
            if function_share < 0.15 or rubric_share > 0.85:
                flags.append("keyword_list")
                notes.append("This reads like a list of keywords rather than an explanation, so it earns only "
                             "part of the credit. Say what each idea means and why it matters.")
        return flags, notes
