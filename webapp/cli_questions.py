"""``rehearse questions …``: importing, exporting and checking the bank from the command line
(where running known solutions in the sandbox inline is what the operator asked for)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from webapp.core.config import Settings
from webapp.core.db import standalone_session
from webapp.grading import mutation_analysis
from webapp.grading.graders import default_graders, shipped_synonyms
from webapp.grading.graders.text import RubricGrader
from webapp.grading.text_calibration import calibration_problem, grade_calibration
from webapp.grading.verification import reference_checker
from webapp.questions import importer
from webapp.questions.bank import read_path
from webapp.questions.coverage import coverage_table
from webapp.questions.verification import solutions_problem


def exit_on_bank_errors(plan: importer.ImportPlan) -> None:
    if not plan.ok:
        for error in plan.errors:
            print(f"  {error}", file=sys.stderr)
        sys.exit(f"error: the bank has {len(plan.errors)} problem(s); nothing was imported")


def cmd_questions_import(args: argparse.Namespace, settings: Settings) -> None:
    path = Path(args.path)
    if not path.exists():
        sys.exit(f"error: {path} does not exist")
    with standalone_session(settings.resolved_database_url) as db:
        bank = read_path(path)
        check = reference_checker(default_graders(sandbox=settings.effective_sandbox)["code"])
        if args.dry_run:
            plan = importer.plan_import(db, bank=bank, check=check)
        else:
            plan = importer.apply_import(db, bank=bank, actor=None, source=str(path), check=check)
        exit_on_bank_errors(plan)
        print(("dry run, nothing written: " if args.dry_run else "imported: ") + plan.summary())
        for label, slugs in (("new", plan.new), ("changed", plan.changed)):
            for slug in slugs:
                print(f"  {label:8} {slug}")
        if args.dry_run:
            db.rollback()


def cmd_questions_export(args: argparse.Namespace, settings: Settings) -> None:
    with standalone_session(settings.resolved_database_url) as db:
        written = importer.export_to_directory(db, directory=Path(args.directory))
    print(f"wrote {len(written)} files to {args.directory}")


def cmd_questions_check(args: argparse.Namespace, settings: Settings) -> None:
    """Validate a bank file or directory, grade its text questions' calibration answers and run its code
    questions' known solutions, without a database."""
    bank = read_path(Path(args.path))
    check = reference_checker(default_graders(sandbox=settings.effective_sandbox)["code"])
    for error in bank.errors:
        print(f"  {error}", file=sys.stderr)
    problems = len(bank.errors)
    text_grader = RubricGrader(shipped_synonyms())
    for spec in bank.questions:
        if args.slug and spec.slug != args.slug:
            continue
        if spec.kind == "code":
            problem = solutions_problem(check, question=spec)
            print(f"{spec.slug}: {problem or 'every known solution scores as labelled'}", flush=True)
            problems += bool(problem)
        elif spec.kind == "text":
            outcomes = grade_calibration(text_grader, question=spec)
            problem = calibration_problem(text_grader, question=spec)
            print(f"{spec.slug}: {problem or 'every calibration answer scores in its range'}", flush=True)
            if args.verbose:
                for outcome in outcomes:
                    print(f"    {outcome.describe()}")
            problems += bool(problem)
    if problems:
        sys.exit(f"error: {problems} problem(s)")
    print(f"ok: {len(bank.questions)} question(s)")


def cmd_questions_mutants(args: argparse.Namespace, settings: Settings) -> None:
    """Mutation analysis of each code challenge's hidden tests (docs/question-bank.md)."""
    check = reference_checker(default_graders(sandbox=settings.effective_sandbox)["code"])
    assert check is not None
    if args.bank:
        bank = read_path(Path(args.bank))
        for error in bank.errors:  # the valid questions can still be analysed
            print(f"  skipped, not valid: {error}", file=sys.stderr)
        specs = bank.questions
    else:
        with standalone_session(settings.resolved_database_url) as db:
            specs = importer.current_specs(db)
    specs = [s for s in specs if s.kind == "code" and (not args.slug or s.slug == args.slug)]
    if not specs:
        sys.exit(f"error: no code question {args.slug!r}" if args.slug else "error: no code questions")
    below = []
    for spec in specs:
        result = mutation_analysis.analyse(
            check, slug=spec.slug, reference=spec.reference_solution, hidden_tests=spec.hidden_tests,
            limits=spec.limits,
            equivalent={e.mutant: e.reason for e in spec.equivalent_mutants})
        print("\n".join(mutation_analysis.report_lines(result, verbose=args.verbose)), flush=True)
        if result.kill_rate * 100 < args.min_kill or result.survived:
            below.append(spec.slug)
    if below:
        sys.exit(f"error: {len(below)} challenge(s) below {args.min_kill:g} % or with unexplained survivors: "
                 + ", ".join(below))
    print(f"every challenge kills at least {args.min_kill:g} % of its non-equivalent mutants")


def cmd_questions_coverage(args: argparse.Namespace, settings: Settings) -> None:
    print(coverage_table(read_path(Path(args.path))))


def register(sub: Any) -> None:
    questions = sub.add_parser("questions", help="import or export the question bank")
    questions_sub = questions.add_subparsers(dest="questions_command", required=True)
    do_import = questions_sub.add_parser("import", help="import a bank file or directory (idempotent by slug)")
    do_import.add_argument("path", help="a .yaml file or a directory of them")
    do_import.add_argument("--dry-run", action="store_true", help="only say what would change")
    do_import.set_defaults(handler=cmd_questions_import)
    do_export = questions_sub.add_parser("export", help="write the bank as YAML files into a directory")
    do_export.add_argument("directory")
    do_export.set_defaults(handler=cmd_questions_export)
    check = questions_sub.add_parser("check", help="validate a bank file, grade its calibration answers, "
                                                       "run its code questions' known solutions")
    check.add_argument("path", help="a .yaml file or a directory of them")
    check.add_argument("slug", nargs="?", help="only this question")
    check.add_argument("--verbose", "-v", action="store_true",
                       help="show every calibration answer's score and verdicts")
    check.set_defaults(handler=cmd_questions_check)
    mutants = questions_sub.add_parser("mutants", help="mutation analysis of code challenges' hidden tests")
    mutants.add_argument("slug", nargs="?", help="one challenge (default: all)")
    mutants.add_argument("--bank", help="a bank file or directory instead of the database's questions")
    mutants.add_argument("--min-kill", type=float, default=90, help="percent of non-equivalent mutants (default 90)")
    mutants.add_argument("--verbose", action="store_true", help="also list killed and equivalent mutants")
    mutants.set_defaults(handler=cmd_questions_mutants)
    coverage = questions_sub.add_parser("coverage", help="questions per topic by kind and difficulty (Markdown)")
    coverage.add_argument("path", help="a .yaml file or a directory of them")
    coverage.set_defaults(handler=cmd_questions_coverage)
