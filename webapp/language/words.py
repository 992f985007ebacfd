"""Words as comparable keys: lemma, then stem, then synonym group.

``ran``, ``runs`` and ``running`` share a key; so do ``RAM`` and ``memory`` when the bank's
synonym list puts them in one group (a group may hold phrases: ``thread pool``). A token
keeps its place in the sentence; punctuation that separates clauses is kept as a token
too, because a claim never reaches across it.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import simplemma
import snowballstemmer

_TOKEN = re.compile(r"[^\W_]+|[,;()—–]|:(?!//)|\s-\s", re.UNICODE)  # "https://" is not a clause break
_CONTRACTIONS = [(re.compile(p, re.IGNORECASE), r) for p, r in (
    (r"\bwon['’]t\b", "will not"), (r"\bcan['’]t\b", "can not"), (r"\bcannot\b", "can not"),
    (r"\bshan['’]t\b", "shall not"), (r"n['’]t\b", " not"), (r"['’](?:s|re|ve|ll|d|m)\b", ""),
)]
SEPARATORS = frozenset(",;:()—–-")
# Words that carry grammar rather than topic: explanations are full of them, keyword lists are not.
FUNCTION_WORDS = frozenset("""
a an the is are was were be been being it its this that these those there here which who what when
where why how and or but if then so because since while as than to of in on at by for with without
from into onto over under about after before between through during per each every any all some no
not can could should would will may might must do does did has have had you your we our they their
he she his her them i my me one also only just more most very such own same other both either neither
""".split())

_local = threading.local()


def _stemmer() -> Any:  # snowballstemmer ships no types
    # Snowball stemmers keep state while they work: one per thread.
    if not hasattr(_local, "stemmer"):
        _local.stemmer = snowballstemmer.stemmer("english")
    return _local.stemmer


@lru_cache(maxsize=65536)
def word_key(word: str) -> str:
    """A word's key before synonyms: its lemma's stem (``ran`` → ``run``, ``validation`` → ``valid``)."""
    lower = word.lower()
    lemma = simplemma.lemmatize(lower, lang="en") if lower.isalpha() else lower
    return str(_stemmer().stemWord(lemma.lower()))


def expand_contractions(text: str) -> str:
    for pattern, replacement in _CONTRACTIONS:
        text = pattern.sub(replacement, text)
    return text


@dataclass(frozen=True)
class Token:
    key: str  # comparable key; a separator's key is the separator itself
    word: str  # as written (first word of a folded synonym phrase)
    is_function_word: bool
    is_separator: bool = False


class Vocabulary:
    """Turns text into tokens; every phrase of a synonym group becomes the group's one key."""

    def __init__(self, synonyms: list[list[str]]) -> None:
        self._groups: dict[tuple[str, ...], str] = {}
        for index, group in enumerate(synonyms):
            for entry in group:
                keys = tuple(word_key(w) for w in _words(entry))
                if keys:
                    self._groups.setdefault(keys, f"~{index}")
        self._longest = max((len(k) for k in self._groups), default=1)

    def tokens(self, text: str) -> list[Token]:
        raw = _TOKEN.findall(expand_contractions(text))
        keys = [w.strip() if _is_separator(w) else word_key(w) for w in raw]
        tokens: list[Token] = []
        index = 0
        while index < len(raw):
            if _is_separator(raw[index]):
                tokens.append(Token(raw[index].strip(), raw[index].strip(), False, True))
                index += 1
                continue
            size, key = 1, keys[index]
            for length in range(min(self._longest, len(raw) - index), 0, -1):
                group = self._groups.get(tuple(keys[index:index + length]))
                if group is not None and not any(_is_separator(w) for w in raw[index:index + length]):
                    size, key = length, group
                    break
            word = raw[index]
            tokens.append(Token(key, word, word.lower() in FUNCTION_WORDS))
            index += size
        return tokens

    def keys(self, text: str) -> list[str]:
        return [t.key for t in self.tokens(text) if not t.is_separator]


def _is_separator(raw: str) -> bool:
    return raw.strip() in SEPARATORS and len(raw.strip()) == 1


def _words(text: str) -> list[str]:
    return [w for w in _TOKEN.findall(expand_contractions(text)) if not _is_separator(w)]
