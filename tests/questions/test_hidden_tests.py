"""Reading hidden tests on the server: names and weights from the source, and the rules the
bank enforces (so the runner and the grader always agree on what the tests are)."""

from __future__ import annotations

import pytest

from webapp.questions.hidden_tests import HiddenTest, HiddenTestsProblem, collect_tests

TESTS = '''
from rehearse_tests import weight
import rehearse_tests


def helper():
    return 1


def test_plain(client):
    pass


@weight(3)
def test_weighted(client, new_client):
    pass


@rehearse_tests.weight(100)
def test_static(source):
    pass


class NotATest:
    def test_method(self):
        pass
'''


def test_names_and_weights_come_from_the_source_in_file_order() -> None:
    assert collect_tests(TESTS) == [HiddenTest("test_plain"), HiddenTest("test_weighted", 3),
                                    HiddenTest("test_static", 100)]


@pytest.mark.parametrize("source, problem", [
    ("from solution import app\ndef test_x(client):\n    pass\n", "cannot import solution"),
    ("import solution\ndef test_x(client):\n    pass\n", "cannot import solution"),
    ("def test_x(client):\n    from solution import app\n", "cannot import solution"),
    ("def test_x(app):\n    pass\n", "unknown fixture(s) app"),
    ("def test_x(client=None):\n    pass\n", "parameters name fixtures only"),
    ("def test_x(*args):\n    pass\n", "parameters name fixtures only"),
    ("async def test_x(client):\n    pass\n", "is async"),
    ("def test_x(client):\n    pass\ndef test_x(client):\n    pass\n", "defined twice"),
    ("import functools\n@functools.cache\ndef test_x(client):\n    pass\n", "only decorator"),
    ("@weight(0)\ndef test_x(client):\n    pass\n", "from 1 to 100"),
    ("@weight(1.5)\ndef test_x(client):\n    pass\n", "from 1 to 100"),
    ("@weight(n=2)\ndef test_x(client):\n    pass\n", "from 1 to 100"),
    ("@weight\ndef test_x(client):\n    pass\n", "only decorator"),
    ("test_x = lambda client: None\n", "for test functions"),
    ("def helper():\n    pass\n", "at least one test"),
    ("def test_x(client:\n", "syntax error at line 1"),
])
def test_rules(source: str, problem: str) -> None:
    with pytest.raises(HiddenTestsProblem, match=problem.replace("(", r"\(").replace(")", r"\)")):
        collect_tests(source)


def test_the_runner_knows_the_same_fixtures() -> None:
    import ast

    from webapp.grading.sandbox.challenge import TEST_RUNNER
    from webapp.questions.hidden_tests import FIXTURES

    assigned = [node.value for node in ast.parse(TEST_RUNNER).body if isinstance(node, ast.Assign)
                and any(isinstance(t, ast.Name) and t.id == "FIXTURES" for t in node.targets)]
    assert [ast.literal_eval(value) for value in assigned] == [FIXTURES]

