"""The ``rehearse`` command: serve, migrate, set up, and manage users."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from collections.abc import Callable
from contextlib import AbstractContextManager

from argon2 import PasswordHasher
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from webapp import cli_grading, cli_questions
from webapp.assembly import grading_service
from webapp.core.config import Settings, get_settings, grader_connections
from webapp.core.db import Database, standalone_session
from webapp.core.errors import ServiceError
from webapp.core.migrate import upgrade_to_head
from webapp.identity import accounts, throttle
from webapp.identity.models import Role, User
from webapp.identity.passwords import make_hasher
from webapp.questions import importer
from webapp.questions.bank import default_bank_dir, read_path


def _db(settings: Settings) -> AbstractContextManager[Session]:
    return standalone_session(settings.resolved_database_url)


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
    if "public_url" not in settings.model_fields_set:
        # Unset, the public URL is where this server listens, so forms posted to it pass the CSRF
        # origin check on any --port (a server reached under another name must set it).
        os.environ["REHEARSE_PUBLIC_URL"] = served_url(args.host, args.port)
    uvicorn.run("webapp.main:create_app", factory=True, host=args.host, port=args.port, workers=args.workers,
                proxy_headers=bool(trusted), forwarded_allow_ips=trusted or None, log_level="info")


def served_url(host: str, port: int) -> str:
    """The URL a browser on this machine uses for a server listening on ``host``:``port``."""
    shown = {"0.0.0.0": "127.0.0.1", "::": "[::1]", "": "127.0.0.1"}.get(host, f"[{host}]" if ":" in host else host)
    return f"http://{shown}:{port}"


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
    while not stop.wait(1):  # a bounded wait lets the signal handler run promptly
        pass
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
        cli_questions.exit_on_bank_errors(plan)
        refreshed = f", {len(plan.refreshed)} code challenges updated to the new test format" if plan.refreshed else ""
        print(f"default question bank: {len(plan.new)} new, {len(plan.unchanged)} already present{refreshed}")
        created = accounts.ensure_first_admin(db, hasher=_hasher(settings), email=settings.first_admin_email)
    if created:
        user, password = created
        print("\n  First admin created. This password is shown once; you will choose your own at first log-in.")
        print(f"    email:    {user.email}\n    password: {password}\n")


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

    cli_questions.register(sub)
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
