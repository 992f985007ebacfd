"""The ``rehearse`` command: serve, migrate, set up, and manage users."""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from argon2 import PasswordHasher
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from webapp import cli_grading
from webapp.assembly import grading_service
from webapp.core.config import Settings, get_settings, grader_connections
from webapp.core.db import Database, session_scope
from webapp.core.errors import ServiceError
from webapp.core.migrate import upgrade_to_head
from webapp.grading import mutation_analysis
from webapp.grading.graders import default_graders, shipped_synonyms
from webapp.grading.graders.text import RubricGrader
from webapp.grading.text_calibration import calibration_problem, grade_calibration
from webapp.grading.verification import reference_checker
from webapp.identity import accounts, throttle
from webapp.identity.models import Role, User
from webapp.identity.passwords import make_hasher
from webapp.questions import importer
from webapp.questions.bank import default_bank_dir, read_path
from webapp.questions.verification import solutions_problem


@contextmanager
def _db(settings: Settings) -> Iterator[Session]:
    database = Database(settings.resolved_database_url)
    try:
        with session_scope(database.write_session) as session:
            yield session
    finally:
        database.dispose()


def _hasher(settings: Settings) -> PasswordHasher:
    return make_hasher(memory_kib=settings.argon2_memory_kib, time_cost=settings.argon2_time_cost,
                       parallelism=settings.argon2_parallelism)


def _user_or_exit(db: Session, email: str) -> User:
    user = accounts.find_user_by_email(db, email=email)
    if user is None:
        sys.exit(f"error: no user with email {email!r}")
    return user


def _configure_logging() -> None:
    import logging

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def cmd_serve(args: argparse.Namespace, settings: Settings) -> None:
    import uvicorn

    _configure_logging()
    # X-Forwarded-For/-Proto only from REHEARSE_TRUSTED_PROXIES; uvicorn's own default would trust
    # 127.0.0.1, letting anyone on the host choose the address log-in throttling counts.
    trusted = settings.forwarded_allow_ips
    uvicorn.run("webapp.main:create_app", factory=True, host=args.host, port=args.port, workers=args.workers,
                proxy_headers=bool(trusted), forwarded_allow_ips=trusted or None, log_level="info")


def cmd_worker(args: argparse.Namespace, settings: Settings) -> None:
    """Grade queued submissions until SIGTERM/SIGINT; finishes the jobs in hand first."""
    import signal
    import threading

    _configure_logging()
    concurrency = args.concurrency or settings.effective_grader_concurrency or 1
    pool_size = grader_connections(concurrency) + 2  # and the heartbeat's, and a spare
    database = Database(settings.resolved_database_url, pool_size=pool_size)
    service = grading_service(settings, database, concurrency=concurrency)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    service.start()
    stop.wait()
    service.stop(timeout=30)
    database.dispose()


def cmd_migrate(args: argparse.Namespace, settings: Settings) -> None:
    settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    upgrade_to_head(settings.resolved_database_url)
    print("database is up to date")


def cmd_setup(args: argparse.Namespace, settings: Settings) -> None:
    """Everything a first run needs: schema, default bank, first admin. Safe to repeat."""
    cmd_migrate(args, settings)
    with _db(settings) as db:
        plan = importer.apply_import(db, bank=read_path(default_bank_dir()), actor=None,
                                     source="default bank", only_new=True)
        _exit_on_bank_errors(plan)
        refreshed = f", {len(plan.refreshed)} code challenges updated to the new test format" if plan.refreshed else ""
        print(f"default question bank: {len(plan.new)} new, {len(plan.unchanged)} already present{refreshed}")
        created = accounts.ensure_first_admin(db, hasher=_hasher(settings), email=settings.first_admin_email)
    if created:
        user, password = created
        print("\n  First admin created. This password is shown once; you will choose your own at first log-in.")
        print(f"    email:    {user.email}\n    password: {password}\n")


def _exit_on_bank_errors(plan: importer.ImportPlan) -> None:
    if not plan.ok:
        for error in plan.errors:
            print(f"  {error}", file=sys.stderr)
        sys.exit(f"error: the bank has {len(plan.errors)} problem(s); nothing was imported")


def cmd_questions_import(args: argparse.Namespace, settings: Settings) -> None:
    path = Path(args.path)
    if not path.exists():
        sys.exit(f"error: {path} does not exist")
    with _db(settings) as db:
        bank = read_path(path)
        check = reference_checker(default_graders(sandbox=settings.effective_sandbox)["code"])
        if args.dry_run:
            plan = importer.plan_import(db, bank=bank, check=check)
        else:
            plan = importer.apply_import(db, bank=bank, actor=None, source=str(path), check=check)
        _exit_on_bank_errors(plan)
        print(("dry run, nothing written: " if args.dry_run else "imported: ") + plan.summary())
        for label, slugs in (("new", plan.new), ("changed", plan.changed)):
            for slug in slugs:
                print(f"  {label:8} {slug}")
        if args.dry_run:
            db.rollback()


def cmd_questions_export(args: argparse.Namespace, settings: Settings) -> None:
    with _db(settings) as db:
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
        with _db(settings) as db:
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


def _read_password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    return getpass.getpass("Password: ")


def cmd_create_user(args: argparse.Namespace, settings: Settings) -> None:
    password = _read_password(args)
    with _db(settings) as db:
        try:
            user = accounts.create_user(db, hasher=_hasher(settings), email=args.email,
                                        display_name=args.name or args.email.split("@")[0],
                                        password=password, role=Role(args.role))
        except ServiceError as exc:
            sys.exit("error: " + "; ".join(f"{k}: {v}" for k, v in exc.errors.items()))
        print(f"created {user.role.value} {user.email}")


def cmd_set_role(args: argparse.Namespace, settings: Settings) -> None:
    with _db(settings) as db:
        user = _user_or_exit(db, args.email)
        accounts.set_role(db, user=user, role=Role(args.role), actor=None)
        print(f"{user.email} is now {user.role.value}")


def cmd_deactivate(args: argparse.Namespace, settings: Settings) -> None:
    with _db(settings) as db:
        user = _user_or_exit(db, args.email)
        accounts.set_active(db, user=user, active=args.reactivate, actor=None)
        print(f"{user.email} is {'active' if user.is_active else 'deactivated; their sessions are revoked'}")


def cmd_unlock(args: argparse.Namespace, settings: Settings) -> None:
    with _db(settings) as db:
        user = accounts.find_user_by_email(db, email=args.email)
        removed = throttle.clear_account(db, email=args.email, user_id=user.id if user else None)
    print(f"{args.email}: {removed} counted log-in failure(s) cleared")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rehearse", description="Rehearse: practise technical interviews.")
    sub = parser.add_subparsers(dest="command", required=True)

    def add(name: str, handler: Callable[[argparse.Namespace, Settings], None], help: str) -> argparse.ArgumentParser:
        command = sub.add_parser(name, help=help, description=help)
        command.set_defaults(handler=handler)
        return command

    serve = add("serve", cmd_serve, "serve the web app")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)
    worker = add("worker", cmd_worker, "grade queued submissions (run as many as you like, on any machine)")
    worker.add_argument("--concurrency", type=int, default=0, help="grader threads (default: one per CPU)")
    add("migrate", cmd_migrate, "upgrade the database schema to the latest version")
    add("setup", cmd_setup, "migrate, load the default bank and create the first admin if there is none")

    create = add("create-user", cmd_create_user, "create a user")
    create.add_argument("--email", required=True)
    create.add_argument("--name", help="display name (default: the part before @)")
    create.add_argument("--role", choices=[r.value for r in Role], default=Role.candidate.value)
    create.add_argument("--password-stdin", action="store_true", help="read the password from standard input")

    role = add("set-role", cmd_set_role, "change a user's role (their sessions are revoked)")
    role.add_argument("--email", required=True)
    role.add_argument("--role", choices=[r.value for r in Role], required=True)

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

    cli_grading.register(sub)

    deactivate = add("deactivate", cmd_deactivate, "deactivate a user and revoke their sessions")
    deactivate.add_argument("--email", required=True)
    deactivate.add_argument("--reactivate", action="store_true", help="reactivate instead")
    unlock = add("unlock", cmd_unlock, "clear the failed log-ins that hold back log-ins to an account")
    unlock.add_argument("--email", required=True)
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    try:
        settings = get_settings()
    except ValueError as exc:
        sys.exit(f"error: invalid settings: {exc}")
    try:
        args.handler(args, settings)
    except OperationalError as exc:
        sys.exit(f"error: cannot use the database at {settings.resolved_database_url}: {exc.orig}\n"
                 "Run `rehearse setup` (or `rehearse migrate`) first, or check REHEARSE_DATABASE_URL.")


if __name__ == "__main__":
    main()
