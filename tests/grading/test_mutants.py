"""The mutant generator: one small change per mutant, each compiles, stable ids."""

from __future__ import annotations

from webapp.grading.mutants import mutants_of

SOURCE = '''"""An app."""
from fastapi import FastAPI, Query

app = FastAPI()


@app.get("/items")
def items(limit: int = Query(10, ge=1, le=50), q: str | None = None):
    """Docstrings are prose."""
    if q and len(q) > 3:
        raise ValueError("too long")
    total = limit * 2
    total += 1
    return {"limit": limit, "total": total, "ok": not q}
'''


def _changes() -> list[str]:
    return [m.description.split(": ", 1)[1] for m in mutants_of(SOURCE)]


def test_every_mutant_is_one_change_that_compiles() -> None:
    mutants = mutants_of(SOURCE)
    assert len(mutants) > 20
    for mutant in mutants:
        compile(mutant.source, "solution.py", "exec")
        assert mutant.source != SOURCE and mutant.id.startswith("m-") and len(mutant.id) == 10
    assert len({m.id for m in mutants}) == len(mutants)


def test_the_operators_that_matter_for_fastapi() -> None:
    changes = "\n".join(_changes())
    for expected in ("ge=1", "gt=1", "lt=50", "@app.post('/items')", "'/X/items'", "len(q) >= 3", "q or len(q)",
                     "limit // 2", "total -= 1", "`raise ValueError('too long')` → `pass`", "not not q", "return None"):
        assert expected in changes, expected
    assert "Docstrings are prose.X" not in changes and "An app.X" not in changes


def test_ids_survive_edits_elsewhere_in_the_file() -> None:
    edited = SOURCE.replace('app = FastAPI()\n', 'app = FastAPI()\nVERSION = "1"\n\n\ndef unused():\n    return 2\n')
    before = {m.id: m.description.split(": ", 1)[1] for m in mutants_of(SOURCE)}
    after = {m.id: m.description.split(": ", 1)[1] for m in mutants_of(edited)}
    assert set(before) <= set(after)
    assert all(after[i] == before[i] for i in before)


def test_no_two_mutants_are_the_same_program() -> None:
    source = "def f(x):\n    if not x:\n        return 1\n    return 2\n"
    programs = [m.source for m in mutants_of(source)]
    assert len(programs) == len(set(programs))


def test_changes_late_in_a_long_signature_are_mutants_too() -> None:
    source = ('from fastapi import FastAPI, Query\napp = FastAPI()\n\n\n@app.get("/items")\n'
              'def items(name_of_a_rather_long_parameter: str = "x", quantity: int = Query(default=1, ge=1, le=100)):\n'
              '    return {"quantity": quantity}\n')
    changes = [m.description for m in mutants_of(source)]
    assert any("le=100" in c and "lt=100" in c for c in changes), changes
    assert any("le=101" in c for c in changes) and any("le=99" in c for c in changes)
