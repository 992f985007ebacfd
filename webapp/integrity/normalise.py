"""What a candidate can add to a copied answer to hide it, taken back out before comparing.

Winnowing finds runs of about two lines in common; a statement that does nothing, put between
every pair of copied lines, breaks every run (a copy with ``pass`` after each line scored 0.3).
``blank_no_ops`` overwrites such statements with spaces, keeping every other character where it
was, so the matching regions still point into the answer as written. Code moved into a string
(``exec("...")``) is not compared at all, since strings are one token; ``code_in_strings`` measures
it so the report can say so."""

from __future__ import annotations

import ast
import re

_LINE = re.compile(r"[^\n]*\n|[^\n]+$")
MIN_STRING_CODE = 40  # characters: shorter strings hold a name or a message, not a program


def _tree(code: str) -> ast.Module | None:
    try:
        return ast.parse(code)
    except (SyntaxError, ValueError, RecursionError, MemoryError):  # not Python: compared as written
        return None


def _does_nothing(node: ast.stmt, *, loaded: set[str], in_class: bool) -> bool:
    if isinstance(node, ast.Pass):
        return True
    if isinstance(node, ast.Expr):  # a docstring, ``...``, a bare constant or name
        return isinstance(node.value, ast.Constant | ast.Name)
    if in_class:  # ``name: str = ""`` in a class is a field (pydantic, dataclasses), not a no-op
        return False
    if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
        return all(isinstance(t, ast.Name) and t.id not in loaded for t in node.targets)
    if isinstance(node, ast.AnnAssign) and isinstance(node.value, ast.Constant | None):
        return isinstance(node.target, ast.Name) and node.target.id not in loaded
    return False


def _no_ops(tree: ast.Module) -> list[ast.stmt]:
    """Statements with no effect: ``pass``, bare constants and names, constants stored in a name
    that nothing reads (outside class bodies)."""
    loaded = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Store)}
    found: list[ast.stmt] = []

    def visit(body: list[ast.stmt], *, in_class: bool) -> None:
        for node in body:
            if _does_nothing(node, loaded=loaded, in_class=in_class):
                found.append(node)
                continue
            for field in ("body", "orelse", "finalbody"):
                inner = getattr(node, field, None)
                if isinstance(inner, list):
                    visit(inner, in_class=isinstance(node, ast.ClassDef) and field == "body")
            for handler in getattr(node, "handlers", []):
                visit(handler.body, in_class=False)
            for case in getattr(node, "cases", []):
                visit(case.body, in_class=False)

    visit(tree.body, in_class=False)
    return found


def blank_no_ops(code: str) -> str:
    """``code`` with every statement that does nothing replaced by spaces (newlines kept): the
    same length, every other character in place. Code that does not parse is returned as is."""
    start = 1 if code.startswith("\ufeff") else 0
    tree = _tree(code[start:])
    if tree is None:
        return code
    lines = [match.group() for match in _LINE.finditer(code[start:])]
    line_starts = [start]
    for line in lines:
        line_starts.append(line_starts[-1] + len(line))

    def offset(lineno: int, byte_col: int) -> int:  # ast columns count UTF-8 bytes
        line = lines[lineno - 1]
        return line_starts[lineno - 1] + len(line.encode("utf-8", "surrogatepass")[:byte_col].decode("utf-8", "ignore"))

    chars = list(code)
    for node in _no_ops(tree):
        if node.end_lineno is None or node.end_col_offset is None:
            continue
        for at in range(offset(node.lineno, node.col_offset), offset(node.end_lineno, node.end_col_offset)):
            if chars[at] != "\n":
                chars[at] = " "
    return "".join(chars)


def code_in_strings(code: str) -> int:
    """Characters of ``code`` inside string literals that are themselves Python programs (at least
    two statements, or a definition or import): hidden from the comparison, so said beside it."""
    tree = _tree(code.removeprefix("\ufeff"))
    if tree is None:
        return 0
    total = 0
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Constant) and isinstance(node.value, str) and len(node.value) >= MIN_STRING_CODE):
            continue
        inner = _tree(node.value)
        if inner is not None and (len(inner.body) >= 2 or any(
                isinstance(s, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Import | ast.ImportFrom)
                for s in inner.body)):
            total += len(node.value)
    return total
