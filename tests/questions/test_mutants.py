"""Mutation analysis of every shipped code challenge (docs/question-bank.md): the hidden tests
kill at least 90 % of the non-equivalent mutants of the reference solution, every survivor
is listed as equivalent with a reason, and no listed equivalent is stale."""

from __future__ import annotations

import pytest

from tests.questions.test_shipped_bank import CHECK, CODE
from webapp.grading.mutation_analysis import analyse, report_lines

pytestmark = [pytest.mark.sandbox, pytest.mark.no_database]

TARGET = 0.90


@pytest.mark.parametrize("slug", [q.slug for q in CODE])
def test_hidden_tests_kill_the_mutants_of_the_reference(slug: str) -> None:
    spec = next(q for q in CODE if q.slug == slug)
    result = analyse(CHECK, slug=slug, reference=spec.reference_solution, hidden_tests=spec.hidden_tests,
                     limits=spec.limits,
                     equivalent={e.mutant: e.reason for e in spec.equivalent_mutants})
    summary = "\n".join(report_lines(result))
    assert len(result.outcomes) >= 10, summary
    assert not [o for o in result.outcomes if o.error], summary
    assert result.kill_rate >= TARGET and not result.survived, summary
    assert not result.listed_but_killed and not result.unknown_equivalents, summary
