"""How much of one candidate's code answer matches another's, after starter code is set aside.

copydetect (winnowing over pygments tokens) does the work: ``utils.filter_code`` drops comments and
whitespace and turns names into V/F/O and strings into S, ``utils.winnow`` picks the fingerprints,
and ``detector.compare_files`` turns the shared ones into a similarity and highlighted slices.
Three things are done here instead of through ``CodeFingerprint`` (copydetect 0.5.0):

- k-grams are hashed with BLAKE2b, not ``hash()``: str hashes are salted per process, so copydetect's
  fingerprints (and which k-grams winnowing picks) change from one run to the next and cannot be stored;
- a fingerprint keeps the first position of each hash only, which is what makes ``screen`` a bound
  (a fragment repeated within one answer counts, and is highlighted, once); the boilerplate is then
  a set difference (copydetect's ``np.intersect1d(..., assume_unique=True)`` on repeated hashes also
  drops some that are not boilerplate);
- the offset ``filter_code`` records for a class name (its own length, not the running total) is
  repaired, so highlighted regions around a ``class`` line land where they should.

Similarity of an answer = its fingerprinted tokens (characters of the filtered code covered by a
fingerprint not in the boilerplate) that are covered by a fingerprint the other answer has too,
divided by all its fingerprinted tokens. Comparing is for Python. A stored Fingerprint is only
comparable with one made with the same K, WINDOW and boilerplate. Decorators stay as written
(pygments' token for ``@app`` is not a name), so renaming ``app`` changes those lines.
"""

from __future__ import annotations

import functools
import hashlib
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from webapp.integrity.normalise import blank_no_ops

# Chosen with `python -m bench.similarity_threshold --sweep` on the shipped bank (25 code questions, 90
# pairs of known-correct solutions, 80 disguised copies). Filtered code runs 11-22 characters a code line,
# so K = 22 is one to two lines: shorter runs ("V=V.V(V)", "raiseHTTPException(") are common to any two
# FastAPI answers (at K = 12 the median pair of correct solutions scores 0.29-0.48). The widest gaps
# between the lowest disguised copy and the 90th percentile of correct pairs, 0.27-0.32, are at K
# 20-25; there WINDOW 6 keeps ~2/7 of the k-grams (WINDOW 1 keeps all: 3.5x the stored hashes) and
# wider windows gain at most 0.03 of gap but lose short copies (K 25, WINDOW 12: lowest copy 0.51).
K = 22  # noise threshold: the shortest run of filtered characters that can count as a match
WINDOW = 6  # winnowing window: every shared run of K + WINDOW - 1 = 27 filtered characters is found
# Disguised copies score 0.76-0.995 (median 0.94); pairs of correct solutions: median 0.24, 90th
# percentile 0.47. The 3 pairs at 0.65 or more (0.71-0.89) are edited copies of one another in the
# bank, not independent work; the next (0.61) is a rewrite of the reference keeping many of its lines.
# max() of the two sides: a copy padded with code of one's own still shows on the copied side.
THRESHOLD = 0.65
# Larger answers (UTF-8) are not compared, similarity 0: pygments takes ~1 s to lex 64 KiB of dense
# code. The upload limit (max_upload_bytes) defaults to 256 KiB, so padding an answer past this hides it.
MAX_CODE_BYTES = 64 * 1024


@dataclass(frozen=True)
class Fingerprint:
    hashes: frozenset[int]
    token_coverage: int  # fingerprinted tokens (filtered characters) once the boilerplate is removed


@dataclass(frozen=True)
class Match:
    similarity_a: float
    similarity_b: float
    regions_a: list[tuple[int, int]]  # (start, end) character offsets into the original code of a
    regions_b: list[tuple[int, int]]


EMPTY = Fingerprint(hashes=frozenset(), token_coverage=0)


@functools.cache
def _copydetect() -> Any:
    """copydetect, imported on first use: it imports matplotlib.pyplot (for its HTML report)."""
    os.environ.setdefault("MPLBACKEND", "Agg")  # no display on a server
    if "MPLCONFIGDIR" not in os.environ:  # the home directory may not be writable
        os.environ["MPLCONFIGDIR"] = tempfile.mkdtemp(prefix="rehearse-matplotlib-")
    import copydetect.detector
    import copydetect.utils
    import numpy

    return SimpleNamespace(detector=copydetect.detector, utils=copydetect.utils, np=numpy)


def _hash(kgram: str) -> int:
    # 53 bits: copydetect's pure-Python winnowing compares hashes as floats, exact below 2**53.
    digest = hashlib.blake2b(kgram.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "big") >> 11


def _lexable(code: str) -> str | None:
    """The code with what pygments would rewrite before lexing replaced by characters of the same length.

    pygments drops a leading BOM and leading newlines and turns \\r\\n into \\n; each would shift the
    offsets of highlighted regions. A space or \\n of the same length lexes the same way (as whitespace).
    Statements that do nothing are blanked the same way (normalise.py).
    """
    if not code.strip() or len(code) > MAX_CODE_BYTES:
        return None
    if len(code.encode("utf-8", "surrogatepass")) > MAX_CODE_BYTES:
        return None
    code = blank_no_ops(code.replace("\r\n", " \n").replace("\r", "\n"))  # padding between copied lines
    if code.startswith("\ufeff"):
        code = " " + code[1:]
    body = code.lstrip("\n")
    return " " * (len(code) - len(body)) + body


def _filtered(text: str) -> tuple[str, Any]:
    """copydetect's filtered code and its offsets (rows of filtered index, characters removed before it)."""
    cd = _copydetect()
    filtered, offsets = cd.utils.filter_code(text, "answer.py", language="python")
    # filter_code records [position, len(name) - 1] for a class name (placeholder O) instead of the
    # running offset. The next row holds the running offset plus len(name) - 1 (nothing is removed in
    # between), so the true value is the difference; the name must then start there in the text
    # (which rules out a kept token that merely ends in a capital O).
    for pos in (i for i, char in enumerate(filtered) if char == "O"):
        row = int(cd.np.searchsorted(offsets[:, 0], pos))  # the first row at pos: the placeholder's own
        if row + 1 >= len(offsets) or int(offsets[row, 0]) != pos:
            continue
        wrong = int(offsets[row, 1])
        true = int(offsets[row + 1, 1]) - wrong
        if true != wrong and text[pos + true:pos + true + wrong + 1].isidentifier():
            offsets[row, 1] = true
    return filtered, offsets


def _kgram_hashes(filtered: str, k: int) -> list[int]:
    return [_hash(filtered[i:i + k]) for i in range(len(filtered) - k + 1)]


@functools.lru_cache(maxsize=256)  # a check compares one answer with many: lex and winnow each once
def _document(code: str, boilerplate: frozenset[int], k: int, window: int) -> SimpleNamespace | None:
    """What copydetect's compare_files reads from a CodeFingerprint, or None when nothing is
    fingerprinted. Cached, so never changed by a reader (compare_files only reads it)."""
    text = _lexable(code)
    if text is None:
        return None
    filtered, offsets = _filtered(text)
    if len(filtered) < k:
        return None
    cd = _copydetect()
    hashes, positions = cd.utils.winnow(cd.np.array(_kgram_hashes(filtered, k), dtype=cd.np.int64), window,
                                        remove_duplicates=True)  # one position per hash (see screen)
    index = {int(h): [int(p)] for h, p in zip(hashes, positions, strict=True) if int(h) not in boilerplate}
    if not index:
        return None
    coverage = int(cd.utils.get_token_coverage(index, k, len(filtered)))
    return SimpleNamespace(k=k, filtered_code=filtered, offsets=offsets, hashes=set(index), hash_idx=index,
                           token_coverage=coverage)


def fingerprint(*, code: str, boilerplate: frozenset[int] = frozenset()) -> Fingerprint:
    return _fingerprint(code, boilerplate, K, WINDOW)


def _fingerprint(code: str, boilerplate: frozenset[int], k: int, window: int) -> Fingerprint:
    doc = _document(code, boilerplate, k, window)
    if doc is None:
        return EMPTY
    return Fingerprint(hashes=frozenset(doc.hashes), token_coverage=doc.token_coverage)


def boilerplate_of(*, codes: Sequence[str]) -> frozenset[int]:
    return _boilerplate_of(codes, K)


def _boilerplate_of(codes: Sequence[str], k: int) -> frozenset[int]:
    """Every k-gram of the starter code and reference solutions (not winnowed, as copydetect does):
    an answer's winnowing may pick any of them."""
    out: set[int] = set()
    for code in codes:
        text = _lexable(code)
        if text is not None:
            out.update(_kgram_hashes(_filtered(text)[0], k))
    return frozenset(out)


def screen(*, a: Fingerprint, b: Fingerprint) -> float:
    """An upper bound on max(similarity_a, similarity_b) from the stored fingerprints alone.

    Each shared hash stands for one position of each answer (duplicates are dropped), and an answer's
    matched tokens are the union of the K-grams at its shared positions, so they number at most
    K x shared. Hence similarity <= K x shared / token_coverage, for fingerprints made with the same
    boilerplate as the comparison. It overestimates (K-grams overlap), so it only rules pairs out.
    """
    return _screen(a, b, K)


def _screen(a: Fingerprint, b: Fingerprint, k: int) -> float:
    shared = len(a.hashes & b.hashes)
    if not shared:
        return 0.0
    return min(1.0, k * shared / min(a.token_coverage, b.token_coverage))


def compare(*, a: str, b: str, boilerplate: frozenset[int] = frozenset()) -> Match:
    return _compare(a, b, boilerplate, K, WINDOW)


def _compare(a: str, b: str, boilerplate: frozenset[int], k: int, window: int) -> Match:
    doc_a, doc_b = _document(a, boilerplate, k, window), _document(b, boilerplate, k, window)
    if doc_a is None or doc_b is None or not doc_a.hashes & doc_b.hashes:
        return Match(similarity_a=0.0, similarity_b=0.0, regions_a=[], regions_b=[])
    _, (sim_a, sim_b), (slices_a, slices_b) = _copydetect().detector.compare_files(doc_a, doc_b)
    return Match(similarity_a=float(sim_a), similarity_b=float(sim_b),
                 regions_a=_regions(slices_a, a), regions_b=_regions(slices_b, b))


def _regions(slices: Any, code: str) -> list[tuple[int, int]]:
    """Slices mapped to the original code, widened to whole words and without whitespace at their edges.

    copydetect's k-grams start at any character of the filtered code, so a slice may start or end
    inside a name or keyword (``eturn``); a highlighted region should not.
    """
    def word(i: int) -> bool:
        return 0 <= i < len(code) and (code[i].isalnum() or code[i] == "_")

    out: list[tuple[int, int]] = []
    for start, end in zip(slices[0].tolist(), slices[1].tolist(), strict=True):
        start, end = max(0, min(int(start), len(code))), max(0, min(int(end), len(code)))
        while start < end and code[start].isspace():
            start += 1
        while end > start and code[end - 1].isspace():
            end -= 1
        if start == end:
            continue
        while word(start - 1) and word(start):
            start -= 1
        while word(end - 1) and word(end):
            end += 1
        if out and start <= out[-1][1]:  # widening can make neighbours meet
            start, end = out[-1][0], max(end, out.pop()[1])
        out.append((start, end))
    return out


def flagged(match: Match) -> bool:
    return max(match.similarity_a, match.similarity_b) >= THRESHOLD
