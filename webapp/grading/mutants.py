"""Mutation analysis of a code challenge's hidden tests: small, plausible bugs planted one at a
time in the reference solution, each graded through the real path; a mutant the tests let
through is a bug a candidate could ship and still score 100.

A small AST mutator rather than mutmut or cosmic-ray: those rewrite files in place and run a
local test command, while here every mutant must go through the two-box sandbox like a
candidate's answer, and the operators that matter are FastAPI's (``ge`` vs ``gt``, a dropped
keyword argument such as ``path=`` or ``allow_credentials=``, a route method, a status code).

Each mutant has a stable id (``m-`` + 8 hex digits) made from where it is (the enclosing
function or class), what it changes and which occurrence it is, so a bank can list
equivalent mutants and the ids survive edits elsewhere in the file.
"""

from __future__ import annotations

import ast
import copy
import difflib
import hashlib
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from webapp.questions.hidden_tests import parse_python

COMPARE_SWAPS: dict[type, type] = {
    ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt, ast.Eq: ast.NotEq, ast.NotEq: ast.Eq,
    ast.In: ast.NotIn, ast.NotIn: ast.In, ast.Is: ast.IsNot, ast.IsNot: ast.Is,
}
BINOP_SWAPS: dict[type, type] = {ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.FloorDiv, ast.Div: ast.Mult,
                                 ast.FloorDiv: ast.Mult, ast.Mod: ast.FloorDiv}
KEYWORD_SWAPS = {"ge": "gt", "gt": "ge", "le": "lt", "lt": "le", "min_length": "max_length",
                 "max_length": "min_length"}
METHOD_SWAPS = {"get": "post", "post": "get", "put": "post", "patch": "put", "delete": "get"}


@dataclass(frozen=True)
class Mutant:
    id: str
    line: int
    description: str
    source: str


def mutants_of(source: str) -> list[Mutant]:
    """Every single-change mutant of ``source`` that still compiles, in source order."""
    tree = parse_python(source)
    original = ast.unparse(tree).splitlines()
    scopes = _scopes(tree)
    seen: Counter[tuple[str, ...]] = Counter()
    mutants, ids, sources = [], set(), {ast.unparse(tree)}
    for index, node in enumerate(ast.walk(tree)):
        for operator, change, line in _changes(node):
            copied = copy.deepcopy(tree)
            change(list(ast.walk(copied))[index])
            mutated = ast.unparse(ast.fix_missing_locations(copied))
            if mutated in sources:  # the same program by another operator (`if not x` negated twice)
                continue
            sources.add(mutated)
            before, after = _difference(original, mutated.splitlines())
            try:
                compile(mutated, "solution.py", "exec", dont_inherit=True)
            except (SyntaxError, ValueError):
                continue
            key = (scopes.get(id(node), "<module>"), operator, before, after)
            seen[key] += 1
            digest = hashlib.sha1("|".join((*key, str(seen[key]))).encode()).hexdigest()[:8]
            if digest in ids:
                continue
            ids.add(digest)
            old, new = _focus(before, after)
            mutants.append(Mutant(f"m-{digest}", line, f"line {line}: `{old}` → `{new}`", mutated))
    return sorted(mutants, key=lambda m: m.line)


def _difference(before: list[str], after: list[str]) -> tuple[str, str]:
    """The first line that differs, on each side, whitespace folded (part of a mutant's id)."""
    diff = [line for line in difflib.ndiff(before, after) if line[:1] in "-+"]
    old = next((line[2:] for line in diff if line.startswith("-")), "")
    new = next((line[2:] for line in diff if line.startswith("+")), "")
    return " ".join(old.split()), " ".join(new.split())


def _focus(old: str, new: str, width: int = 90) -> tuple[str, str]:
    """Both lines cut to the same window around where they differ, so a change late in a long
    signature still shows."""
    if max(len(old), len(new)) <= width:
        return old, new
    start = next((i for i, (a, b) in enumerate(zip(old, new, strict=False)) if a != b), min(len(old), len(new)))
    begin = max(0, start - width // 2)

    def cut(text: str) -> str:
        return ("…" if begin else "") + text[begin:begin + width] + ("…" if len(text) > begin + width else "")

    return cut(old), cut(new)


def _changes(node: ast.AST) -> Iterator[tuple[str, Callable[[Any], Any], int]]:
    """(operator, a function making the change to this node's twin in a copy, source line)."""
    line = getattr(node, "lineno", 0)
    for operator, change in _node_changes(node):
        yield operator, change, line
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.For, ast.AsyncFor, ast.While, ast.With,
                         ast.AsyncWith, ast.If, ast.Try)):
        for field in ("body", "orelse", "finalbody"):
            for i, statement in enumerate(getattr(node, field, []) or []):
                if isinstance(statement, (ast.Expr, ast.Raise, ast.AugAssign)) and not _docstring(statement):
                    def drop(n: Any, f: str = field, i: int = i) -> None:  # defaults: this field and index
                        getattr(n, f).__setitem__(i, ast.Pass())

                    yield "statement", drop, statement.lineno


def _node_changes(node: ast.AST) -> Iterator[tuple[str, Callable[[Any], Any]]]:
    if isinstance(node, ast.Compare):
        for i, op in enumerate(node.ops):
            if type(op) in COMPARE_SWAPS:
                def swap(n: Any, i: int = i) -> None:
                    n.ops.__setitem__(i, COMPARE_SWAPS[type(n.ops[i])]())

                yield "compare", swap
    elif isinstance(node, ast.BoolOp):
        yield "boolean", lambda n: setattr(n, "op", ast.Or() if isinstance(n.op, ast.And) else ast.And())
    elif isinstance(node, (ast.BinOp, ast.AugAssign)) and type(node.op) in BINOP_SWAPS:
        yield "arithmetic", lambda n: setattr(n, "op", BINOP_SWAPS[type(n.op)]())
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):  # not x -> not not x
        yield "negation", lambda n: setattr(n, "operand", ast.UnaryOp(op=ast.Not(), operand=n.operand))
    elif isinstance(node, (ast.If, ast.While, ast.IfExp)) and not isinstance(node.test, ast.Compare):
        yield "condition", lambda n: setattr(n, "test", ast.UnaryOp(op=ast.Not(), operand=n.test))
    elif isinstance(node, ast.Constant) and not isinstance(node.value, bytes):
        yield from _constant_changes(node)
    elif isinstance(node, ast.Call):
        yield from _call_changes(node)
    elif isinstance(node, ast.Return) and node.value is not None:
        yield "return", lambda n: setattr(n, "value", ast.Constant(None))
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        for i, decorator in enumerate(node.decorator_list):
            if isinstance(decorator, ast.Call) and isinstance(decorator.func, ast.Attribute) \
                    and decorator.func.attr in METHOD_SWAPS:
                def swap_method(n: Any, i: int = i) -> None:
                    n.decorator_list[i].func.attr = METHOD_SWAPS[n.decorator_list[i].func.attr]

                yield "route method", swap_method


def _constant_changes(node: ast.Constant) -> Iterator[tuple[str, Callable[[Any], Any]]]:
    value = node.value
    if isinstance(value, bool):
        yield "constant", lambda n: setattr(n, "value", not n.value)
    elif isinstance(value, int):
        yield "constant", lambda n: setattr(n, "value", n.value + 1)
        if value != 0:
            yield "constant", lambda n: setattr(n, "value", n.value - 1)
    elif isinstance(value, float):
        yield "constant", lambda n: setattr(n, "value", n.value * 2 if n.value else 1.0)
    elif isinstance(value, str) and value and getattr(node, "_docstring", False) is False:
        yield "string", lambda n: setattr(n, "value", n.value + "X" if not n.value.startswith("/") else "/X" + n.value)


def _call_changes(node: ast.Call) -> Iterator[tuple[str, Callable[[Any], Any]]]:
    for i, keyword in enumerate(node.keywords):
        if keyword.arg is None:
            continue
        def drop(n: Any, i: int = i) -> None:
            n.keywords.pop(i)

        yield "keyword dropped", drop
        if keyword.arg in KEYWORD_SWAPS:
            def swap(n: Any, i: int = i) -> None:
                n.keywords[i].arg = KEYWORD_SWAPS[n.keywords[i].arg]

            yield "keyword", swap


def _docstring(statement: ast.stmt) -> bool:
    return isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant) \
        and isinstance(statement.value.value, str)


def _scopes(tree: ast.Module) -> dict[int, str]:
    """id(node) -> dotted name of the innermost function or class around it."""
    scopes: dict[int, str] = {}

    def visit(node: ast.AST, scope: str) -> None:
        for child in ast.iter_child_nodes(node):
            inner = scope
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                inner = f"{scope}.{child.name}" if scope != "<module>" else child.name
            scopes[id(child)] = inner
            visit(child, inner)

    visit(tree, "<module>")
    for node in ast.walk(tree):  # docstrings are prose, not behaviour: never mutated
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and _docstring(body[0]):
            body[0].value._docstring = True
    return scopes


