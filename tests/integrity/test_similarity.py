"""Code similarity: disguised copies are flagged; shared starter code and independent solutions are not."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench.similarity_threshold import code_tasks, disguise, pad
from webapp.integrity.normalise import blank_no_ops, code_in_strings
from webapp.integrity.similarity import (
    MAX_CODE_BYTES,
    THRESHOLD,
    Fingerprint,
    Match,
    _filtered,
    _lexable,
    boilerplate_of,
    compare,
    fingerprint,
    flagged,
    screen,
)

ROOT = Path(__file__).resolve().parents[2]

STARTER = '''from fastapi import FastAPI, HTTPException
from pydantic import BaseModel

app = FastAPI()

# Add GET /items/{item_id} and POST /items here.
'''

SOLUTION = '''from fastapi import FastAPI, HTTPException
from pydantic import BaseModel

app = FastAPI()

ITEMS: dict[int, dict] = {}


class Item(BaseModel):
    name: str
    price: float
    tags: list[str] = []


@app.get("/items/{item_id}")
def read_item(item_id: int, include_tags: bool = False):
    # Unknown ids are a 404, not a 500.
    item = ITEMS.get(item_id)
    if item is None:
        raise HTTPException(status_code=404, detail="Item not found")
    if not include_tags:
        return {"id": item_id, "name": item["name"], "price": item["price"]}
    return {"id": item_id, **item}


@app.post("/items", status_code=201)
def create_item(item: Item):
    new_id = max(ITEMS, default=0) + 1
    ITEMS[new_id] = {"name": item.name.strip(), "price": round(item.price, 2), "tags": sorted(set(item.tags))}
    return {"id": new_id, **ITEMS[new_id]}
'''

# Every name renamed, comments removed and added, blank lines, arguments across lines, quotes swapped.
DISGUISED = """from fastapi import FastAPI, HTTPException
from pydantic import BaseModel

app = FastAPI()
store: dict[int, dict] = {}
class Product(BaseModel):
    # what the client sends
    title: str

    cost: float

    labels: list[str] = []
@app.get('/items/{item_id}')
def fetch_product(
    pid: int,
    with_labels: bool = False,
):
    # look it up
    found = store.get(pid)

    if found is None:
        raise HTTPException(
            status_code=404,
            detail='Item not found',
        )
    if not with_labels:
        return {'id': pid, 'name': found['name'], 'price': found['price']}  # the short form

    return {'id': pid, **found}
@app.post('/items', status_code=201)
def add_product(product: Product):
    next_key = max(store, default=0) + 1
    store[next_key] = {
        'name': product.title.strip(),
        'price': round(product.cost, 2),
        'tags': sorted(set(product.labels)),
    }
    return {'id': next_key, **store[next_key]}
"""


def _covered(code: str, regions: list[tuple[int, int]]) -> float:
    """Share of the code's non-blank characters, outside comments, inside the regions."""
    inside = {i for start, end in regions for i in range(start, end)}
    counted, hit, offset = 0, 0, 0
    for line in code.splitlines(keepends=True):
        code_part = line.split("#", 1)[0]
        for i, char in enumerate(code_part):
            if not char.isspace():
                counted += 1
                hit += (offset + i) in inside
        offset += len(line)
    return hit / counted


def _max(match: Match) -> float:
    return max(match.similarity_a, match.similarity_b)


def test_a_disguised_copy_is_flagged_with_regions_covering_most_of_both():
    match = compare(a=SOLUTION, b=DISGUISED, boilerplate=boilerplate_of(codes=[STARTER]))
    assert flagged(match), match
    assert min(match.similarity_a, match.similarity_b) > 0.8
    plain = compare(a=SOLUTION, b=DISGUISED)  # the starter's lines are copied too: highlighted without it
    assert _covered(SOLUTION, plain.regions_a) > 0.85
    assert _covered(DISGUISED, plain.regions_b) > 0.85
    for code, regions in ((SOLUTION, plain.regions_a), (DISGUISED, plain.regions_b)):
        assert regions == sorted(regions) and all(s < e <= len(code) for s, e in regions)
        for start, end in regions:  # whole words, no blank edges
            assert not code[start].isspace() and not code[end - 1].isspace()
            assert not (start and code[start - 1].isalnum() and code[start].isalnum())
            assert not (end < len(code) and code[end - 1].isalnum() and code[end].isalnum())


def test_regions_are_offsets_into_the_original_code():
    """pygments drops a BOM and leading newlines and rewrites \\r\\n; the regions must not shift."""
    odd = "\ufeff\n\n" + SOLUTION.replace("\n", "\r\n")
    match = compare(a=odd, b=SOLUTION)
    assert match.regions_a[0][0] == 3 and match.regions_b[0][0] == 0
    assert [odd[s:e].replace("\r\n", "\n") for s, e in match.regions_a] == [SOLUTION[s:e] for s, e in match.regions_b]
    assert _covered(SOLUTION, match.regions_b) > 0.85


def test_each_name_placeholder_maps_back_to_its_name():
    """copydetect records a wrong offset for class names (utils.filter_code); it is repaired."""
    import numpy as np

    text = _lexable(SOLUTION + "\n\nclass Other(Item):\n    extra: int = 0\n")
    assert text is not None
    filtered, offsets = _filtered(text)
    places = [p for p, char in enumerate(filtered) if char in "VFO"]
    assert sum(filtered[p] == "O" for p in places) == 2
    for p in places:  # as compare_files maps a slice edge
        original = p + int(offsets[:, 1][np.clip(np.searchsorted(offsets[:, 0], p), 0, len(offsets) - 1)])
        assert text[original].isidentifier() and not text[original - 1].isalnum(), (p, text[original:original + 9])


def test_reordering_two_functions_still_flags():
    head, read, create = SOLUTION.split("\n\n\n@app")
    reordered = f"{head}\n\n\n@app{create}\n\n\n@app{read}\n"
    assert reordered != SOLUTION and sorted(reordered.split()) == sorted(SOLUTION.split())
    match = compare(a=SOLUTION, b=reordered, boilerplate=boilerplate_of(codes=[STARTER]))
    assert flagged(match) and min(match.similarity_a, match.similarity_b) > 0.8


LONG_STARTER = '''from fastapi import Depends, FastAPI, HTTPException, status
from pydantic import BaseModel, Field

app = FastAPI()


class Book(BaseModel):
    title: str = Field(min_length=1, max_length=200)
    author: str = Field(min_length=1, max_length=100)
    year: int = Field(ge=1450, le=2100)


BOOKS: dict[int, Book] = {
    1: Book(title="Dune", author="Frank Herbert", year=1965),
    2: Book(title="Emma", author="Jane Austen", year=1815),
}


def get_book(book_id: int) -> Book:
    if book_id not in BOOKS:
        raise HTTPException(status_code=status.HTTP_404_NOT_FOUND, detail="No such book")
    return BOOKS[book_id]

# Add GET /books/{book_id}/age: how many years ago the book came out.
'''
KEPT_STARTER_A = LONG_STARTER + '''

@app.get("/books/{book_id}/age")
def book_age(book: Book = Depends(get_book)):
    return {"age": 2025 - book.year}
'''
KEPT_STARTER_B = LONG_STARTER + '''
import datetime


@app.get("/books/{book_id}/age")
async def age(book_id: int):
    book = get_book(book_id)
    years = datetime.date.today().year - book.year
    return {"age": max(years, 0)}
'''


def test_answers_that_share_only_the_starter_code_are_not_flagged():
    assert flagged(compare(a=KEPT_STARTER_A, b=KEPT_STARTER_B))  # the starter alone makes them look alike
    boilerplate = boilerplate_of(codes=[LONG_STARTER])
    match = compare(a=KEPT_STARTER_A, b=KEPT_STARTER_B, boilerplate=boilerplate)
    assert not flagged(match), match
    assert screen(a=fingerprint(code=KEPT_STARTER_A, boilerplate=boilerplate),
                  b=fingerprint(code=KEPT_STARTER_B, boilerplate=boilerplate)) < THRESHOLD


def test_an_answer_that_is_all_starter_code_matches_nothing():
    boilerplate = boilerplate_of(codes=[LONG_STARTER])
    assert fingerprint(code=LONG_STARTER, boilerplate=boilerplate) == Fingerprint(hashes=frozenset(), token_coverage=0)
    match = compare(a=LONG_STARTER, b=KEPT_STARTER_A, boilerplate=boilerplate)
    assert match == Match(similarity_a=0.0, similarity_b=0.0, regions_a=[], regions_b=[])


@pytest.mark.parametrize("code", [
    "", "   \n\t\n", "# only a comment\n# and another\n", "x = 1\n",
    "x = 1\n" * (MAX_CODE_BYTES // 6 + 1),  # over the cap: not compared
], ids=["empty", "blank", "comments", "shorter-than-K", "huge"])
def test_code_with_nothing_to_compare_is_similarity_zero(code):
    assert fingerprint(code=code) == Fingerprint(hashes=frozenset(), token_coverage=0)
    for other in (code, SOLUTION):
        match = compare(a=code, b=other)
        assert match == Match(similarity_a=0.0, similarity_b=0.0, regions_a=[], regions_b=[])


@pytest.mark.parametrize("code", [
    "\x00\ud800 ))) \'\'\'never closed \"\"\" \\\n" * 40,  # NUL, a lone surrogate, unbalanced, unterminated
    "def f(:\n    return ][\n" * 50,
    "\u202e\u0000\uffff" * 3000,
], ids=["garbage", "syntax-errors", "control-characters"])
def test_code_that_does_not_parse_is_compared_without_error(code):
    """pygments lexes anything (unknown text becomes error tokens): no exception, no match with real code."""
    assert compare(a=code, b=SOLUTION).similarity_a == 0.0
    assert screen(a=fingerprint(code=code), b=fingerprint(code=SOLUTION)) == 0.0
    assert 0.0 <= compare(a=code, b=code).similarity_a <= 1.0


def test_fingerprints_are_the_same_in_every_process():
    """copydetect hashes with hash(), salted per process; these are stored, so they must not be."""
    script = ("from webapp.integrity.similarity import fingerprint; import sys; "
              "sys.stdout.write(str(sorted(fingerprint(code=sys.stdin.read()).hashes)))")
    runs = {subprocess.run([sys.executable, "-c", script], input=SOLUTION, capture_output=True, text=True, check=True,
                           cwd=ROOT, env={**os.environ, "PYTHONHASHSEED": seed}).stdout for seed in ("1", "2")}
    assert runs == {str(sorted(fingerprint(code=SOLUTION).hashes))}


@pytest.fixture(scope="module")
def bank_pairs():
    """Per pair of a code question's known-correct solutions: its fingerprints and exact match."""
    out = []
    for task in code_tasks():
        boilerplate = boilerplate_of(codes=[task.starter])  # not the reference: it is one of the pair
        for a, b in itertools.combinations(task.solutions, 2):
            out.append((task.slug, fingerprint(code=a, boilerplate=boilerplate),
                        fingerprint(code=b, boilerplate=boilerplate), compare(a=a, b=b, boilerplate=boilerplate)))
    return out


def test_independent_correct_solutions_are_rarely_flagged(bank_pairs):
    """Documented (webapp/integrity/similarity.py): 3 of the bank's 90 pairs, all edited copies of each other."""
    assert len(bank_pairs) >= 90
    hits = [(slug, round(_max(m), 3)) for slug, _, _, m in bank_pairs if flagged(m)]
    assert len(hits) / len(bank_pairs) <= 0.04, hits
    assert sorted(_max(m) for *_, m in bank_pairs)[len(bank_pairs) // 2] < 0.35  # median: chance overlap only


def test_disguised_copies_of_every_bank_solution_are_flagged():
    for task in code_tasks():
        boilerplate = boilerplate_of(codes=[task.starter])
        for code in task.solutions:
            match = compare(a=code, b=disguise(code), boilerplate=boilerplate)
            assert flagged(match), (task.slug, match.similarity_a, match.similarity_b)


def test_screen_never_underestimates(bank_pairs):
    checked = [(screen(a=fa, b=fb), _max(m)) for _, fa, fb, m in bank_pairs]
    boilerplate = boilerplate_of(codes=[STARTER])
    for a, b in ((SOLUTION, DISGUISED), (SOLUTION, disguise(SOLUTION)), (DISGUISED, disguise(DISGUISED))):
        fa, fb = fingerprint(code=a, boilerplate=boilerplate), fingerprint(code=b, boilerplate=boilerplate)
        checked.append((screen(a=fa, b=fb), _max(compare(a=a, b=b, boilerplate=boilerplate))))
    assert all(bound >= exact for bound, exact in checked), [c for c in checked if c[0] < c[1]]
    assert sum(bound < THRESHOLD for bound, _ in checked) >= len(bank_pairs) // 4  # and it does rule pairs out
    assert screen(a=fingerprint(code=""), b=fingerprint(code=SOLUTION)) == 0.0


def test_importing_the_module_does_not_import_copydetect():
    script = ("import sys, webapp.integrity.similarity; "
              "print(sorted(m for m in ('copydetect', 'numpy', 'matplotlib') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "[]"


def test_comparing_works_without_a_display_or_a_writable_home():
    unwritable = "/dev/null/home"  # not a directory, for root too
    env = {k: v for k, v in os.environ.items() if not k.startswith("MPL") and k != "DISPLAY"}
    env.update(HOME=unwritable, XDG_CONFIG_HOME=unwritable, XDG_CACHE_HOME=unwritable)
    script = ("import os, sys; from webapp.integrity.similarity import compare; "
              "similarity = compare(a=sys.argv[1], b=sys.argv[1]).similarity_a; "
              "print(os.environ['MPLBACKEND'], os.path.isdir(os.environ['MPLCONFIGDIR']), similarity)")
    out = subprocess.run([sys.executable, "-c", script, SOLUTION], capture_output=True, text=True, check=True,
                         cwd=ROOT, env=env)
    assert out.stdout.split() == ["Agg", "True", "1.0"]
    assert out.stderr == ""  # matplotlib warns when it has to find a cache directory itself


def test_statements_that_do_nothing_between_copied_lines_do_not_hide_a_copy():
    padded = pad(SOLUTION)
    assert padded.count("\n") >= SOLUTION.count("\n") + 12
    match = compare(a=SOLUTION, b=padded, boilerplate=boilerplate_of(codes=[STARTER]))
    assert min(match.similarity_a, match.similarity_b) > 0.9, match
    assert _covered(padded, match.regions_b) > 0.6  # the regions still point into the padded answer
    disguised = compare(a=SOLUTION, b=pad(DISGUISED), boilerplate=boilerplate_of(codes=[STARTER]))
    assert flagged(disguised), disguised


def test_blanking_keeps_every_other_character_in_place():
    code = ('class Item(BaseModel):\n    """An item."""\n    name: str = ""\n    price: float = 0\n\n'
            'LIMIT = 3\n\ndef f(x):\n    "Doc."\n    pass\n    kept = 1\n    dead = "é"\n    ...\n'
            '    return x + kept + LIMIT\n')
    blank = blank_no_ops(code)
    assert len(blank) == len(code)
    assert all(b == c for b, c in zip(blank, code, strict=True) if b != " ")
    for kept in ('name: str = ""', "price: float = 0", "LIMIT = 3", "kept = 1", "return x + kept + LIMIT"):
        assert kept in blank
    for gone in ('"""An item."""', '"Doc."', "pass", 'dead = "é"', "..."):
        assert gone not in blank
    assert blank_no_ops("def broken(:\n    pass\n") == "def broken(:\n    pass\n"


def test_code_moved_into_a_string_is_measured_for_the_report():
    hidden = f'exec("""{SOLUTION}""")\n'
    assert code_in_strings(hidden) == len(SOLUTION)
    assert _max(compare(a=SOLUTION, b=hidden)) < THRESHOLD  # why it is said beside the result
    assert code_in_strings(SOLUTION) == 0
    assert code_in_strings('MESSAGE = "Item not found; try another id, or create one first."\n') == 0
