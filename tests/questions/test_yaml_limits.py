"""Bank files are read within limits: alias bombs, huge and deeply nested documents are refused
before they cost memory, and the shipped bank stays far below every limit."""

from __future__ import annotations

import subprocess
import sys
import time
import tracemalloc

import pytest
import yaml

from tests.helpers import post_form
from webapp.core import safe_yaml
from webapp.questions.bank import MAX_FILE_BYTES, default_bank_dir, parse_document

MEMORY_BUDGET_MIB = 64  # peak growth while reading any upload of up to MAX_FILE_BYTES (docs/operations.md)


def _bomb() -> str:
    """43 KB that expands to 9**9 copies of a 42 KB string ("billion laughs"), under ``questions:``."""
    levels = "".join(f"  - &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]\n" for i in range(1, 10))
    return f"questions:\n  - &a0 {{slug: '{'x' * 42_000}'}}\n{levels}  - *a9\n"


def _expanded_nodes(node: yaml.Node, seen: dict[int, int] | None = None) -> int:
    seen = {} if seen is None else seen
    if id(node) not in seen:
        children = node.value if isinstance(node, yaml.SequenceNode) else (
            [p for pair in node.value for p in pair] if isinstance(node, yaml.MappingNode) else [])
        seen[id(node)] = 1 + sum(_expanded_nodes(c, seen) for c in children)
    return seen[id(node)]


def _composed_nodes(text: str) -> int:
    return _expanded_nodes(yaml.compose(text, Loader=yaml.SafeLoader))  # the shipped bank has no aliases


def _only_error(text: str) -> str:
    bank = parse_document(text, filename="upload.yaml")
    assert len(bank.errors) == 1 and not bank.questions, bank.errors[:3]
    return str(bank.errors[0])


def test_the_shipped_bank_loads_far_below_the_limits():
    files = sorted(default_bank_dir().glob("*.yaml"))
    texts = {f.name: f.read_text(encoding="utf-8") for f in files}
    for name, text in texts.items():
        assert safe_yaml.load(text) == yaml.safe_load(text), name
        assert not parse_document(text, filename=name).errors, name
    largest = max(_composed_nodes(t) for t in texts.values())
    merged: dict[str, list[object]] = {"topics": [], "questions": [], "synonyms": []}
    for text in texts.values():
        for key, items in (yaml.safe_load(text) or {}).items():
            merged[key].extend(items)
    whole = yaml.safe_dump(merged, sort_keys=False, allow_unicode=True)  # what an export of the whole bank holds
    assert not parse_document(whole, filename="export.yaml").errors
    # 801 nodes in the largest file, about 16,000 in the whole bank as one file (the admin export):
    # 60 and 3 times below the limit. That export is 1.7 MB: it must still fit in what an import takes.
    assert largest * 50 < safe_yaml.LIMITS.nodes and _composed_nodes(whole) * 3 < safe_yaml.LIMITS.nodes
    assert len(whole.encode()) < MAX_FILE_BYTES, "the whole bank's export no longer fits in one import"


def test_an_alias_bomb_is_refused_before_it_expands():
    text = _bomb()
    assert len(text) < 44_000
    assert _expanded_nodes(yaml.compose(text, Loader=yaml.SafeLoader)) > 9**9  # a real bomb
    tracemalloc.start()
    started = time.perf_counter()
    try:
        message = _only_error(text)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert time.perf_counter() - started < 5
    assert peak < 4 * 2**20, f"{peak / 2**20:.1f} MiB"
    assert "refused, too large to read: aliases expand it to more than 100,000 nodes" in message
    assert "50,000 nodes, 1,000 aliases and 50 levels" in message


@pytest.mark.parametrize(("text", "refusal"), [
    ("a0: &a0 {k: v}\n" + "".join(f"a{i}: &a{i} {{<<: [{', '.join([f'*a{i - 1}'] * 9)}]}}\n" for i in range(1, 10)),
     "aliases expand it to more than 100,000 nodes"),  # merge keys copy pairs at construction
    ("questions: &q [*q]\n", "an alias refers to a node that contains it (line 1)"),
    ("questions:\n" + "".join(f"- &a{i} x\n- *a{i}\n" for i in range(1_001)), "more than 1,000 aliases (at line 2003)"),
    ("questions: " + "[" * 60 + "]" * 60, "nested more than 50 levels deep (at line 1)"),
    ("x: &deep " + "[" * 30 + "]" * 30 + "\nquestions: " + "[" * 25 + "*deep" + "]" * 25,
     "aliases nest it more than 50 levels deep"),
    # the mapping, its key and the list are the first three nodes, so item 49,998 (line 49,999) is one too many
    ("questions:\n" + "- 0\n" * 50_001, "more than 50,000 nodes (at line 49999)"),
])
def test_each_limit_is_refused_with_a_clear_message(text, refusal):
    assert f"upload.yaml: refused, too large to read: {refusal}" in _only_error(text)


def test_aliases_within_the_limits_still_work():
    text = "topics:\n  - &t {slug: cors, name: CORS}\nquestions: []\nsynonyms: [&w [fast, quick], *w]\n"
    bank = parse_document(text, filename="upload.yaml")
    assert not bank.errors and bank.topics[0].name == "CORS" and bank.synonyms == [["fast", "quick"]] * 2


def test_a_section_that_is_not_a_list_is_refused_whole():
    # A 2 MB string under `questions:` used to be validated letter by letter: two million errors.
    assert "'topics', 'questions' and 'synonyms' must each be a list" in _only_error("questions: " + "a" * 100_000)
    assert "must each be a list" in _only_error("topics: {cors: CORS}")


_MEASURE = """
import re, sys, time
from webapp.questions.bank import parse_document

def kib(field):
    return int(re.search(field + r":\\s+(\\d+)", open("/proc/self/status").read()).group(1))

text = sys.stdin.read()
with open("/proc/self/clear_refs", "w") as clear:
    clear.write("5")  # resets the peak (VmHWM) to the present resident size
before = kib("VmRSS")
started = time.perf_counter()
bank = parse_document(text, filename="upload.yaml")
took = time.perf_counter() - started
print(f"{took:.2f} {(kib('VmHWM') - before) / 1024:.1f} {len(bank.errors)} {bank.errors[0] if bank.errors else ''}")
"""

_MIB2 = MAX_FILE_BYTES - 64
_WORST_CASES = {  # each as large as an upload may be
    "nodes": ("questions: [" + "0," * (_MIB2 // 2) + "0]", "more than 50,000 nodes"),
    "depth": ("questions: " + "[" * _MIB2, "nested more than 50 levels deep"),
    "long scalar": ("questions: [" + "a" * _MIB2 + "]", "Input should be a valid dictionary"),
    "scalars": ("questions:\n" + f"- {'x' * 38}\n" * 49_990, "Input should be a valid dictionary"),
    "mappings": ("questions:\n" + f"- {{slug: s, x: {'y' * 190}}}\n" * 9_900, "Field required"),
    "bomb": (_bomb(), "aliases expand it"),
}


@pytest.mark.processes
@pytest.mark.parametrize("case", list(_WORST_CASES))
def test_a_worst_case_upload_stays_within_the_memory_budget(case):
    """Peak resident memory of a fresh process reading the upload, C allocations included (Linux)."""
    text, expected = _WORST_CASES[case]
    assert len(text.encode()) <= MAX_FILE_BYTES
    done = subprocess.run([sys.executable, "-c", _MEASURE], input=text, capture_output=True, text=True,
                          timeout=60, check=True)
    took, grown, errors, first = done.stdout.split(" ", 3)
    assert expected in first
    assert float(grown) < MEMORY_BUDGET_MIB, f"{case}: {grown} MiB"
    assert float(took) < 15, f"{case}: {took} s"  # about 1 s on one free core
    print(f"{case}: {took} s, +{grown} MiB, {errors} errors")


def test_the_import_page_shows_the_refusal(admin_client, bank):
    response = post_form(admin_client, "/admin/questions/import", token_page="/admin",
                         files={"file": ("bomb.yaml", _bomb().encode(), "application/yaml")})
    assert response.status_code == 422 and "cannot be imported" in response.text
    assert "too large to read: aliases expand it to more than 100,000 nodes" in response.text
