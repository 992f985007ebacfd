"""Code similarity (webapp/integrity/similarity.py) on the shipped bank: chance matches, disguised copies, time.

Run: ``.venv/bin/python -m bench.similarity_threshold`` (``--sweep`` adds a table over K and WINDOW).

Independent pairs: for each code question, every pair of its known-correct solutions (the reference and
``correct_solutions``), which the bank's authors wrote separately in different styles, compared with
the question's starter code as boilerplate (not the reference: it is one of the pair).
Disguised copies: each correct solution against itself with every identifier it defines renamed
(v0, f0, C0... in order of appearance), reformatted by ``ast.unparse`` (comments gone, quotes and line
breaks normalised) and a comment added every third line; the same boilerplate.
"""

from __future__ import annotations

import ast
import itertools
import statistics
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass

from webapp.integrity import similarity
from webapp.questions.bank import default_bank_dir, read_path


@dataclass(frozen=True)
class Task:
    slug: str
    starter: str
    solutions: list[str]


def code_tasks() -> list[Task]:
    bank = read_path(default_bank_dir())
    return [Task(q.slug, q.starter_code, [q.reference_solution] + [c.code for c in q.correct_solutions])
            for q in bank.questions if q.kind == "code"]


class _Renamer(ast.NodeTransformer):
    """Renames what the code itself defines (functions, classes, arguments, assigned names), not imports."""

    def __init__(self, tree: ast.AST) -> None:
        self.names: dict[str, str] = {}
        imported = {(a.asname or a.name).split(".")[0] for node in ast.walk(tree)
                    if isinstance(node, ast.Import | ast.ImportFrom) for a in node.names}
        counts = {"v": 0, "f": 0, "C": 0}
        for node in ast.walk(tree):  # breadth first: deterministic
            for name, prefix in self._defined(node):
                if name not in self.names and name not in imported and name not in {"self", "cls"}:
                    self.names[name] = f"{prefix}{counts[prefix]}"
                    counts[prefix] += 1

    @staticmethod
    def _defined(node: ast.AST) -> Iterator[tuple[str, str]]:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield node.name, "f"
        elif isinstance(node, ast.ClassDef):
            yield node.name, "C"
        elif isinstance(node, ast.arg):
            yield node.arg, "v"
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            yield node.id, "v"

    def visit_Name(self, node: ast.Name) -> ast.AST:
        node.id = self.names.get(node.id, node.id)
        return node

    def visit_Attribute(self, node: ast.Attribute) -> ast.AST:  # form.username follows the field's new name
        node.attr = self.names.get(node.attr, node.attr)
        return self.generic_visit(node)

    def visit_keyword(self, node: ast.keyword) -> ast.AST:
        if node.arg is not None:
            node.arg = self.names.get(node.arg, node.arg)
        return self.generic_visit(node)

    def visit_arg(self, node: ast.arg) -> ast.AST:
        node.arg = self.names.get(node.arg, node.arg)
        return self.generic_visit(node)

    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.AST:
        node.name = self.names.get(node.name, node.name)
        return self.generic_visit(node)

    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> ast.AST:
        node.name = self.names.get(node.name, node.name)
        return self.generic_visit(node)

    def visit_ClassDef(self, node: ast.ClassDef) -> ast.AST:
        node.name = self.names.get(node.name, node.name)
        return self.generic_visit(node)


def disguise(code: str) -> str:
    """A reproducible disguised copy: identifiers renamed, reformatted by ast.unparse, comments added."""
    tree = ast.parse(code)
    tree = _Renamer(tree).visit(tree)
    for swap in (True, False):  # quotes swapped unless that breaks the code (an f-string's inner quotes)
        lines = []
        for number, line in enumerate(ast.unparse(tree).splitlines()):
            if number % 3 == 1 and line.strip():
                indent = line[:len(line) - len(line.lstrip())]
                lines.append(f"{indent}# step {number}: see below")
            lines.append(line.replace("'", '"') if swap else line)  # unparse writes single quotes
        copy = "\n\n".join(lines) + "\n"  # and blank lines everywhere
        try:
            ast.parse(copy)  # a copy that does not run would fail its tests: not a copy worth hiding
        except SyntaxError:
            continue
        return copy
    raise ValueError("no disguise of this code parses")


def pad(code: str) -> str:
    """A statement that does nothing after every statement of ``code``, so that no two copied
    lines stay next to each other: the cheapest way to hide a copy from winnowing."""
    fillers = itertools.cycle(["pass", "_ = 0", "...", "'''check'''", "unused: int = 1", "None"])
    after: dict[int, int] = {}
    for node in ast.walk(ast.parse(code)):
        body = getattr(node, "body", None)
        if isinstance(node, ast.ClassDef) or not isinstance(body, list):  # a class's fields stay as they are
            continue
        for statement in body:
            if statement.end_lineno is not None:
                after.setdefault(statement.end_lineno, statement.col_offset)
    out = []
    for number, line in enumerate(code.splitlines(), start=1):
        out.append(line)
        if number in after:
            out.append(" " * after[number] + next(fillers))
    return "\n".join(out) + "\n"


def independent_pairs(tasks: list[Task]) -> Iterator[tuple[Task, str, str]]:
    for task in tasks:
        for a, b in itertools.combinations(task.solutions, 2):
            yield task, a, b


def _quantiles(values: list[float]) -> str:
    ordered = sorted(values)
    p90 = ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))]
    return f"min {ordered[0]:.3f}  median {statistics.median(ordered):.3f}  p90 {p90:.3f}  max {ordered[-1]:.3f}"


def measure(tasks: list[Task], k: int, window: int) -> tuple[list[float], list[float], list[float]]:
    """Per independent pair: max similarity; per disguised copy: max similarity; per independent pair: screen."""
    independent, disguised, screens = [], [], []
    boilerplate = {t.slug: similarity._boilerplate_of([t.starter], k) for t in tasks}
    for task, a, b in independent_pairs(tasks):
        m = similarity._compare(a, b, boilerplate[task.slug], k, window)
        independent.append(max(m.similarity_a, m.similarity_b))
        fa = similarity._fingerprint(a, boilerplate[task.slug], k, window)
        fb = similarity._fingerprint(b, boilerplate[task.slug], k, window)
        screens.append(similarity._screen(fa, fb, k))
    for task in tasks:
        for code in task.solutions:
            m = similarity._compare(code, disguise(code), boilerplate[task.slug], k, window)
            disguised.append(max(m.similarity_a, m.similarity_b))
    return independent, disguised, screens


def padded_copies(tasks: list[Task]) -> list[float]:
    """Per solution: max similarity with its disguised copy padded with no-op statements."""
    out = []
    for task in tasks:
        boilerplate = similarity.boilerplate_of(codes=[task.starter])
        for code in task.solutions:
            m = similarity.compare(a=code, b=disguise(pad(code)), boilerplate=boilerplate)
            out.append(max(m.similarity_a, m.similarity_b))
    return out


def sweep(tasks: list[Task]) -> None:
    """Other K and WINDOW values: chance similarity of correct-solution pairs against disguised copies."""
    print("\n K  WIN | correct pairs: median   p90    max | disguised: min    p10 | margin min-p90")
    for k in (12, 15, 18, 20, 22, 25, 28):
        for window in (1, 4, 6, 8, 12):
            ind, dis, _ = measure(tasks, k, window)
            ind, dis = sorted(ind), sorted(dis)
            p90 = ind[round(0.9 * (len(ind) - 1))]
            print(f"{k:>3} {window:>4} |              {statistics.median(ind):.3f}  {p90:.3f}  {ind[-1]:.3f} |"
                  f"        {dis[0]:.3f}  {dis[len(dis) // 10]:.3f} |         {dis[0] - p90:+.3f}", flush=True)


def _median_seconds(calls: list[tuple[str, str, frozenset[int]]], compare: bool) -> float:
    """The median over the calls of each call's best of 3 (the machine may be busy with other work)."""
    times = []
    for a, b, boilerplate in calls:
        best = float("inf")
        for _ in range(3):
            start = time.perf_counter()
            if compare:
                similarity.compare(a=a, b=b, boilerplate=boilerplate)
            else:
                similarity.fingerprint(code=a, boilerplate=boilerplate)
            best = min(best, time.perf_counter() - start)
        times.append(best)
    return statistics.median(times)


def main() -> None:
    tasks = code_tasks()
    similarity.compare(a="x = 1\n" * 20, b="x = 1\n" * 20)  # imports copydetect before timing
    independent, disguised, screens = measure(tasks, similarity.K, similarity.WINDOW)
    threshold = similarity.THRESHOLD
    print(f"K={similarity.K} WINDOW={similarity.WINDOW} THRESHOLD={threshold}")
    print(f"code questions: {len(tasks)}")
    print(f"independent correct-solution pairs: {len(independent)}")
    print(f"  similarity (max of both sides): {_quantiles(independent)}")
    share = sum(s >= threshold for s in independent) / len(independent)
    print(f"  flagged at {threshold}: {share:.1%} ({sum(s >= threshold for s in independent)})")
    skipped = sum(s < threshold for s in screens)
    print(f"  ruled out by screen (bound < {threshold}): {skipped / len(screens):.1%};"
          f" screen >= exact on all: {all(s >= i for s, i in zip(screens, independent, strict=True))}")
    print(f"disguised copies: {len(disguised)}")
    print(f"  similarity (max of both sides): {_quantiles(disguised)}")
    recall = sum(s >= threshold for s in disguised) / len(disguised)
    print(f"  flagged at {threshold} (recall): {recall:.1%}")
    padded = padded_copies(tasks)
    print(f"disguised copies padded with a no-op after every statement: {len(padded)}")
    print(f"  similarity (max of both sides): {_quantiles(padded)}")
    print(f"  flagged at {threshold} (recall): {sum(s >= threshold for s in padded) / len(padded):.1%}")
    boiler = {t.slug: similarity.boilerplate_of(codes=[t.starter]) for t in tasks}
    calls = [(a, b, boiler[t.slug]) for t, a, b in independent_pairs(tasks)]
    print(f"time per fingerprint (median): {_median_seconds(calls, compare=False) * 1000:.2f} ms")
    print(f"time per compare (median): {_median_seconds(calls, compare=True) * 1000:.2f} ms")
    big = "def f(a, b):\n    return [a + b * i for i in range(10)]\n" * 1200
    start = time.perf_counter()
    similarity.fingerprint(code=big[:similarity.MAX_CODE_BYTES])
    print(f"time per fingerprint at the {similarity.MAX_CODE_BYTES // 1024} KiB cap:"
          f" {(time.perf_counter() - start) * 1000:.0f} ms")
    if "--sweep" in sys.argv:
        sweep(tasks)


if __name__ == "__main__":
    main()
