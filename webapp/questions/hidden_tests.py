"""A code question's hidden tests, read on the server without running them.

The grader takes the list of tests from here, never from the runner's report, and accepts a
report only if it names exactly these tests in this order. The same rules check the bank
when a question is saved or imported, so a test file the runner would read differently
never reaches candidates.

Rules: tests are top-level ``def test_…`` functions whose parameters name fixtures
(``client``, ``new_client``, ``source``); the only decorator is ``@weight(N)`` with a literal
1-100 (default 1); tests never import ``solution`` (the app runs in a box of its own and is
reached over HTTP).
"""

from __future__ import annotations

import ast
import threading
from dataclasses import dataclass

FIXTURES = ("client", "new_client", "source")  # also in sandbox/inside/test_runner.py (standalone)
MAX_WEIGHT = 100


_PARSING = threading.Lock()


def parse_python(source: str) -> ast.Module:
    """ast.parse, one thread at a time: CPython 3.11 keeps the counter that guards building the
    AST objects per interpreter, not per thread, so two threads parsing at once can fail with
    "SystemError: AST constructor recursion depth mismatch" (seen once in the test suite, with two
    threads checking known solutions: rare, since it needs a thread switch inside the C builder)."""
    with _PARSING:
        return ast.parse(source)


@dataclass(frozen=True)
class HiddenTest:
    name: str
    weight: int = 1


class HiddenTestsProblem(ValueError):
    """The hidden tests break a rule; the message says which, for whoever wrote them."""


def collect_tests(source: str, *, label: str = "hidden tests") -> list[HiddenTest]:
    """The tests in file order, or HiddenTestsProblem (``label`` names the suite in its message:
    example tests follow the same rules)."""
    try:
        tree = parse_python(source)
    except SyntaxError as exc:
        raise HiddenTestsProblem(f"{label} have a syntax error at line {exc.lineno}: {exc.msg}") from None
    _no_solution_imports(tree, label)
    tests: list[HiddenTest] = []
    for node in tree.body:
        if isinstance(node, ast.AsyncFunctionDef) and node.name.startswith("test_"):
            raise HiddenTestsProblem(f"{node.name} is async: {label} are plain functions "
                                     "(the app is async enough)")
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Name) and t.id.startswith("test_") for t in targets):
                raise HiddenTestsProblem("names starting with test_ are for test functions (def test_…)")
        if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
            if any(t.name == node.name for t in tests):
                raise HiddenTestsProblem(f"{node.name} is defined twice (the second would hide the first)")
            tests.append(HiddenTest(node.name, _weight(node)))
            _check_parameters(node)
    if not tests:
        raise HiddenTestsProblem(f"{label} need at least one test_… function")
    return tests


def _no_solution_imports(tree: ast.Module, label: str) -> None:
    for node in ast.walk(tree):
        names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                 else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
        if any(name == "solution" or name.startswith("solution.") for name in names):
            raise HiddenTestsProblem(
                f"{label} cannot import solution: the candidate's app runs in a box of its own and is "
                "tested over HTTP; ask for the `client` fixture instead (docs/question-bank.md)")


def _weight(node: ast.FunctionDef) -> int:
    weight = 1
    for decorator in node.decorator_list:
        call = decorator if isinstance(decorator, ast.Call) else None
        func = call.func if call else decorator
        name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
        if name != "weight" or call is None:
            raise HiddenTestsProblem(f"{node.name}: the only decorator a test may have is @weight(N)")
        value = call.args[0] if len(call.args) == 1 and not call.keywords else None
        if not (isinstance(value, ast.Constant) and type(value.value) is int and 1 <= value.value <= MAX_WEIGHT):
            raise HiddenTestsProblem(f"{node.name}: @weight takes one whole number from 1 to {MAX_WEIGHT}")
        weight = value.value
    return weight


def _check_parameters(node: ast.FunctionDef) -> None:
    arguments = node.args
    if arguments.vararg or arguments.kwarg or arguments.kwonlyargs or arguments.defaults or arguments.posonlyargs:
        raise HiddenTestsProblem(f"{node.name}: parameters name fixtures only (no defaults, *args or **kwargs)")
    unknown = [a.arg for a in arguments.args if a.arg not in FIXTURES]
    if unknown:
        raise HiddenTestsProblem(f"{node.name} asks for unknown fixture(s) {', '.join(unknown)} "
                                 f"(there are: {', '.join(FIXTURES)})")
