"""Grading written answers by what they claim: deterministic, and every verdict shows its evidence.

Each rubric point lists *claims* (see webapp/language/statements.py) and the
*misconceptions* that contradict it. The answer is read sentence by sentence; a point is

- **contradicted** when a sentence denies one of its claims ("does not filter") or asserts
  one of its misconceptions: it earns nothing and the feedback quotes the sentence and says
  why it is wrong, even if another sentence also states the claim;
- **met** when ``need`` different claims are asserted (or an admin pattern matches);
- **partly** met (half its weight) when some but fewer than ``need`` are;
- **missed** otherwise.

Phrases inside filler frames ("it is all about the …") assert nothing, and an answer that
only lists terms (a keyword list, or terms strung together with "and") earns nothing for
them. The grade carries a confidence; below ``PROVISIONAL_BELOW`` it is shown as provisional.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from webapp.grading.graders.base import GradeResult, GradingTask
from webapp.grading.graders.text_quality import UNEXPLAINED, confidence_of, quality_flags
from webapp.language.passages import Sentence, sentences
from webapp.language.patterns import compiled_pattern
from webapp.language.statements import Claim, find, parse_claim, split_misconception
from webapp.language.words import Token, Vocabulary
from webapp.questions.rubric_spec import RubricPointSpec

CHUNK_WORDS = 60  # a run-on "sentence" is read in pieces this long, so grading time stays linear
CREDIT = {"met": 1.0, "partly": 0.5, "missed": 0.0, "contradicted": 0.0}
PROVISIONAL_BELOW = 0.6


@dataclass
class _Reading:
    """The answer, read once: sentences with their tokens."""

    sentences: list[Sentence]
    tokens: list[list[Token]]
    filler_claims: int = 0
    asserted_claims: int = 0


@dataclass
class _PointJudgement:
    asserted: dict[int, int] = field(default_factory=dict)  # claim index → first sentence asserting it
    contradictions: list[tuple[int, str]] = field(default_factory=list)  # (sentence, why)


class RubricGrader:
    name = "claims"
    version = "2"
    long_running = False

    def __init__(self, synonyms: list[list[str]] | None = None) -> None:
        self.vocabulary = Vocabulary(synonyms or [])
        self._claim = lru_cache(maxsize=4096)(lambda text: parse_claim(text, self.vocabulary))

    def grade(self, task: GradingTask) -> GradeResult:
        found = sentences(task.answer_text)
        reading = _Reading(found, [self.vocabulary.tokens(s.text) for s in found])
        points = [self._judge(rubric_point, reading) for rubric_point in task.rubric]
        flags, notes = quality_flags(reading.tokens, points, filler_claims=reading.filler_claims,
                                     asserted_claims=reading.asserted_claims)
        if set(UNEXPLAINED) & set(flags):
            points = [_unexplained(p) for p in points]
        total = sum(p["weight"] for p in points) or 1
        earned = sum(p["weight"] * CREDIT[p["verdict"]] for p in points)
        score = round(100 * earned / total)
        if "too_short" in flags:
            score = min(score, 30)
        confidence = confidence_of(points, flags, score=score, words=sum(len(t) for t in reading.tokens))
        feedback = {"kind": "rubric", "grader": self.name, "points": points, "earned_weight": earned,
                    "total_weight": total, "word_count": sum(not t.is_separator for ts in reading.tokens for t in ts),
                    "flags": flags, "notes": notes, "confidence": confidence,
                    "provisional": confidence < PROVISIONAL_BELOW}
        return GradeResult(score=score, feedback=feedback)

    def claims_of(self, rubric_point: RubricPointSpec) -> list[Claim]:
        """A point's claims; an older point's phrases are one-slot claims each."""
        texts = rubric_point.claims or rubric_point.phrases
        return [self._claim(text) for text in texts]

    def _judge(self, rubric_point: RubricPointSpec, reading: _Reading) -> dict[str, Any]:
        claims = self.claims_of(rubric_point)
        misconceptions = [(self._claim(claim), why)
                          for claim, why in map(split_misconception, rubric_point.misconceptions)]
        judgement = _PointJudgement()
        for index, tokens in enumerate(reading.tokens):
            for chunk in _chunks(tokens):
                self._read_sentence(index, chunk, claims, misconceptions, judgement, reading, rubric_point)
        pattern_sentence = self._pattern_sentence(rubric_point, reading)
        met = len(judgement.asserted) + (pattern_sentence is not None)
        need = max(1, min(rubric_point.need, len(claims) + bool(rubric_point.patterns)))
        verdict = ("contradicted" if judgement.contradictions else "met" if met >= need
                   else "partly" if met else "missed")
        evidence = set(judgement.asserted.values())
        if pattern_sentence is not None:
            evidence.add(pattern_sentence)
        evidence_sentences = sorted(evidence)
        result: dict[str, Any] = {
            "point": rubric_point.point, "weight": rubric_point.weight, "verdict": verdict,
            "covered": verdict in ("met", "partly"), "claims_found": met, "claims_needed": need,
            "evidence": None, "span": None, "contradiction": None, "conflict": bool(judgement.contradictions and met),
            "hint": rubric_point.hint or None, "docs": rubric_point.docs or None,
        }
        if judgement.contradictions:
            index, why = judgement.contradictions[0]
            result["contradiction"] = {"quote": reading.sentences[index].text, "why": why}
            result["span"] = [reading.sentences[index].start, reading.sentences[index].end]
        elif evidence_sentences:
            first = reading.sentences[evidence_sentences[0]]
            result["evidence"] = " ".join(reading.sentences[i].text for i in evidence_sentences[:2])
            result["span"] = [first.start, first.end]
        return result

    @staticmethod
    def _read_sentence(index: int, tokens: list[Token], claims: list[Claim], misconceptions: list[tuple[Claim, str]],
                       judgement: _PointJudgement, reading: _Reading, rubric_point: RubricPointSpec) -> None:
        for number, claim in enumerate(claims):
            for finding in find(claim, tokens):
                if finding.filler:
                    reading.filler_claims += 1
                elif finding.negated and rubric_point.claims:  # an older point's phrases never contradict
                    judgement.contradictions.append((index, f"That is backwards: {rubric_point.point}"))
                else:
                    reading.asserted_claims += 1
                    judgement.asserted.setdefault(number, index)
        for claim, why in misconceptions:
            if any(not f.negated and not f.filler for f in find(claim, tokens)):
                judgement.contradictions.append((index, why or f"That is backwards: {rubric_point.point}"))

    @staticmethod
    def _pattern_sentence(rubric_point: RubricPointSpec, reading: _Reading) -> int | None:
        for pattern in rubric_point.patterns:
            regex = compiled_pattern(pattern)
            for index, sentence in enumerate(reading.sentences):
                match = regex.search(sentence.text)
                if match and match.end() > match.start():
                    return index
        return None


def _unexplained(point: dict[str, Any]) -> dict[str, Any]:
    """A point whose terms were only listed: no credit (a contradiction still stands)."""
    if not point["covered"]:
        return point
    return point | {"verdict": "missed", "covered": False, "claims_found": 0, "evidence": None, "span": None}


def _chunks(tokens: list[Token]) -> list[list[Token]]:
    if len(tokens) <= CHUNK_WORDS:
        return [tokens]
    return [tokens[start:start + CHUNK_WORDS] for start in range(0, len(tokens), CHUNK_WORDS)]
