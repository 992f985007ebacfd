"""Claims: what a sentence asserts, found by its parts and judged by its polarity.

A claim is written as slots separated by ``;``, each slot a list of alternative phrases
separated by ``|``: ``response model|return type ; filter|drop|strip ; field|attribute``.
A clause asserts the claim when every slot has a phrase in it, close together, and no
negation governs them ("does not filter", "rather than WSGI", "unlike Flask"). A clause
that has every slot but negates one *denies* the claim. Phrases built only of filler
("it is all about the …", "then there is the …") assert nothing.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from webapp.language.words import Token, Vocabulary, word_key

MAX_GAP = 2  # other words allowed between the words of one phrase
JUDGED_MATCHES = 16  # tightest combinations of slot matches judged per clause (bounds a stuffed clause)
WINDOW = 16  # words from the first to the last slot of one claim
_CLAUSE_BREAKS = {";", ":", "—", "–", "-"}
_CONTRAST = {word_key(w) for w in ("but", "whereas", "although", "though", "however", "while")}
_NEGATIONS = {word_key(w) for w in ("not", "no", "never", "without", "neither", "nor", "none", "nothing",
                                    "nobody", "unlike", "lack")}
_SHORT_NEGATIONS = {word_key(w) for w in ("without", "unlike", "no")}
SHORT_SCOPE = 3  # words a short-scope negation reaches: "no retries", "without a lock", "unlike Flask"
_NEGATION_PAIRS = {(word_key(a), word_key(b)) for a, b in (("rather", "than"), ("instead", "of"), ("far", "from"))}
_LONGER = (word_key("no"), word_key("longer"))
_NOT_NEGATIONS = {(word_key(a), word_key(b)) for a, b in (("not", "only"), ("not", "just"), ("no", "matter"),
                                                          ("or", "not"))}
_FILLERS = [tuple(word_key(w) for w in f.split()) for f in (
    "all about", "then there is", "then there are", "there is the whole", "we have", "you have", "what matters is",
    "the key thing is", "the main thing is", "comes down to", "think of", "not forget", "of course", "as well as",
    "in my view",
    "i would say", "another thing is", "also important is", "plus the", "and then the", "then the",
)]
# Words after a claim that take it back: "per-field authorization is redundant", "query limits
# are unnecessary", "a blocking call inside async def is harmless", "… is not needed".
_DISMISSALS = {word_key(w) for w in ("unnecessary", "redundant", "harmless", "pointless", "needless", "irrelevant",
                                     "obsolete", "cosmetic", "overrated", "myth", "useless", "superfluous")}
_DISMISSED_AFTER_NOT = {word_key(w) for w in ("need", "needed", "required", "necessary", "matter", "important",
                                              "true", "relevant", "worth", "issue", "concern", "problem", "count")}
DISMISSAL_WINDOW = 5  # words after the claim's last word
_PARENTHETICAL = {word_key(w) for w in ("which", "who", "that", "where", "like", "e", "i", "for", "such", "including",
                                         "especially", "say", "typically", "usually", "often")}
_SUBORDINATORS = {word_key(w) for w in ("because", "so", "which", "that", "since", "if", "unless", "when", "whether",
                                        "who", "where", "otherwise")}
_AND = {word_key("and"), word_key("or")}
_NEW_SUBJECT = {word_key(w) for w in ("the", "a", "an", "it", "they", "you", "we", "i", "this", "its", "their", "your",
                                      "fastapi", "starlette", "pydantic")}
# A sentence about what to avoid lists negatives on purpose: its negations deny nothing.
_CAUTIONS = {word_key(w) for w in ("mistake", "mistakes", "avoid", "pitfall", "pitfalls", "forgetting", "beware")}
_CONDITIONS = {word_key(w) for w in ("if", "unless", "whether", "when", "whenever")}
_FILLER_ENDS = {word_key(w) for w in ("that", "which", "who", "because", "so", "when", "if")}


@dataclass(frozen=True)
class Claim:
    text: str
    slots: tuple[tuple[tuple[str, ...], ...], ...]  # slots → alternatives → phrase keys


@dataclass(frozen=True)
class Finding:
    negated: bool
    filler: bool
    positions: tuple[int, ...]  # token indexes in the sentence


def claim_problem(text: str) -> str | None:
    """Why ``text`` is not a well-formed claim, or None."""
    slots = [s.strip() for s in text.split(";")]
    if not text.strip() or any(not s for s in slots):
        return "a claim needs one or more slots separated by ';', none of them empty"
    if len(slots) > 4:
        return "a claim has at most 4 slots"
    for slot in slots:
        if any(not alternative.strip() for alternative in slot.split("|")):
            return f"slot {slot!r} has an empty alternative (two '|' in a row?)"
    return None


def parse_claim(text: str, vocabulary: Vocabulary) -> Claim:
    slots = tuple(
        tuple(keys for keys in (tuple(vocabulary.keys(a)) for a in slot.split("|")) if keys)
        for slot in text.split(";")
    )
    return Claim(text.strip(), tuple(s for s in slots if s))


def split_misconception(text: str) -> tuple[str, str]:
    """``"fastapi ; wsgi => FastAPI speaks ASGI"`` → (claim, why)."""
    claim, _, why = text.partition("=>")
    return claim.strip(), why.strip()


def clauses(tokens: list[Token]) -> list[range]:
    """Index ranges of the clauses: split at ; : dashes and contrast words (but, whereas, …)."""
    bounds: list[range] = []
    start = 0
    for index, token in enumerate(tokens):
        if token.key in _CLAUSE_BREAKS or (token.key in _CONTRAST and not token.is_separator):
            if index > start:
                bounds.append(range(start, index))
            start = index + 1 if token.key in _CLAUSE_BREAKS else index
    if start < len(tokens):
        bounds.append(range(start, len(tokens)))
    return bounds


def _phrase_matches(tokens: list[Token], clause: range, phrase: tuple[str, ...]) -> list[tuple[int, ...]]:
    found = []
    for first in clause:
        if tokens[first].key != phrase[0]:
            continue
        used, position = [first], first
        for key in phrase[1:]:
            window = range(position + 1, min(clause.stop, position + MAX_GAP + 2))
            position = next((i for i in window if tokens[i].key == key), -1)
            if position < 0 or any(tokens[i].is_separator for i in range(used[-1], position)):
                break
            used.append(position)
        else:
            found.append(tuple(used))
    return found


def _negated(tokens: list[Token], clause: range, position: int, own: set[int]) -> bool:
    """Whether a negation governs the token: *not, never, nothing…* anywhere before it in its comma
    part (or the subordinate clause it sits in: "… because it runs in a thread"); *without, unlike,
    no, rather than, instead of* only over the next few words, their own noun phrase ("without
    strict mode Pydantic converts" does not deny converting). "Don't X and don't Y" is two
    negations of two things, not one that cancels."""
    index = position - 1
    while index >= clause.start and not tokens[index].is_separator and tokens[index].key not in _SUBORDINATORS:
        if tokens[index].key in _AND and index + 1 < position and tokens[index + 1].key in _NEW_SUBJECT:
            return False  # "the endpoint never runs and the client gets a 422": a new statement
        pair = (tokens[index].key, tokens[index + 1].key) if index + 1 < clause.stop else None
        previous = (tokens[index - 1].key, tokens[index].key) if index > clause.start else None
        if index not in own and pair not in _NOT_NEGATIONS and previous not in _NOT_NEGATIONS:
            if tokens[index].key in _SHORT_NEGATIONS and _stands_alone(tokens, index):
                pass  # "X-Accel-Buffering: no and a ping every 15 s": a value or an answer, governing nothing
            elif previous in _NEGATION_PAIRS or tokens[index].key in _SHORT_NEGATIONS:
                if position - index <= SHORT_SCOPE:
                    return True
            elif tokens[index].key in _NEGATIONS:
                return True
        index -= 1
    return False


def _stands_alone(tokens: list[Token], index: int) -> bool:
    """A short negation with nothing of its own after it ("no, …", "no and …") negates no noun
    phrase. ("no or little overhead" still negates: "or" continues the same phrase.)"""
    after = tokens[index + 1] if index + 1 < len(tokens) else None
    return after is None or after.is_separator or after.key == word_key("and")


def _dismissed(tokens: list[Token], clause: range, last: int) -> bool:
    """Whether the words right after the claim, in its comma part, take it back."""
    following = []
    for index in range(last + 1, min(clause.stop, last + 1 + DISMISSAL_WINDOW)):
        if tokens[index].is_separator:
            break
        following.append(tokens[index].key)
    for position, key in enumerate(following):
        after = following[position + 1:position + 3]
        if key in _DISMISSALS or (key == _LONGER[0] and after[:1] == [_LONGER[1]]):
            return True
        if key in _NEGATIONS and any(k in _DISMISSED_AFTER_NOT for k in after):
            return True
    return False


def _conditional(tokens: list[Token], clause: range, first: int) -> bool:
    """Whether the match sits in the condition of an if/unless/when in its comma part."""
    index = first - 1
    while index >= clause.start and not tokens[index].is_separator:
        if tokens[index].key in _CONDITIONS:
            return True
        index -= 1
    return False


def _in_filler(tokens: list[Token], clause: range, position: int) -> bool:
    """Whether the token sits in the noun phrase that follows a filler frame."""
    index = position - 1
    while index >= clause.start and not tokens[index].is_separator and tokens[index].key not in _FILLER_ENDS:
        for frame in _FILLERS:
            if tuple(t.key for t in tokens[index - len(frame) + 1:index + 1]) == frame:
                return True
        index -= 1
    return False


def _judge_match(tokens: list[Token], clause: range, positions: tuple[int, ...]) -> Finding | None:
    """Asserted, denied, or None when a negation touches only part of a claim spread over
    comma-separated parts ("unlike Flask, FastAPI is ASGI" says nothing of Flask and ASGI)."""
    own = set(positions)
    negated = [_negated(tokens, clause, i, own) for i in positions]
    filler = all(_in_filler(tokens, clause, i) for i in positions)
    if _dismissed(tokens, clause, positions[-1]):
        return Finding(not any(negated), filler, positions)
    if not any(negated):
        return Finding(False, filler, positions)
    if _conditional(tokens, clause, positions[0]) or any(t.key in _CAUTIONS for t in tokens[:positions[0]]):
        return None  # "if a parameter cannot be converted, …", "mistakes to avoid: no expose_headers" deny nothing
    one_part = not any(tokens[i].is_separator for i in range(positions[0], positions[-1]))
    return Finding(True, filler, positions) if one_part else None


def _one_part(tokens: list[Token], flat: list[int]) -> bool:
    """Whether the words lie in one comma part, parentheticals aside: "FastAPI, which builds on
    Starlette, speaks ASGI" is one statement; "HttpOnly means HTTPS, Secure hides it from
    JavaScript" is two."""
    part_start = flat[0]
    for index in range(flat[0], flat[-1]):
        if not tokens[index].is_separator:
            continue
        opens = index + 1 < len(tokens) and (tokens[index + 1].key in _PARENTHETICAL or tokens[index].key == "(")
        closes = tokens[part_start].key in _PARENTHETICAL or tokens[index].key == ")" or (
            part_start > 0 and tokens[part_start - 1].key == "(")
        if not (opens or closes):
            return False
        part_start = index + 1
    return True


def find(claim: Claim, tokens: list[Token]) -> list[Finding]:
    """Every clause of the sentence that contains the whole claim: its tightest assertion, or
    failing that its tightest denial."""
    findings = []
    for clause in clauses(tokens):
        candidates = [[m for phrase in slot for m in _phrase_matches(tokens, clause, phrase)] for slot in claim.slots]
        if not all(candidates):
            continue
        matches: list[tuple[int, ...]] = []
        for combination in itertools.islice(itertools.product(*candidates), 256):
            flat = sorted(i for match in combination for i in match)
            if len(set(flat)) == len(flat) and flat[-1] - flat[0] <= WINDOW and _one_part(tokens, flat):
                matches.append(tuple(flat))
        best: Finding | None = None
        for match in itertools.islice(sorted(set(matches), key=lambda m: m[-1] - m[0]), JUDGED_MATCHES):
            finding = _judge_match(tokens, clause, match)
            if finding is not None and not finding.negated:
                best = finding  # the tightest assertion
                break
            best = best or finding  # else the tightest denial
        if best is not None:
            findings.append(best)
    return findings
