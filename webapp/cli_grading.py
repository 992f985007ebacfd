"""``rehearse grading …``: measuring the text grader (no database needed)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from webapp.core.config import Settings
from webapp.grading.evaluation.run import DEFAULT_SET, printable


def cmd_grading_eval(args: argparse.Namespace, settings: Settings) -> None:
    """Grade the labelled evaluation set and print agreement per kind, overall and held out."""
    print(printable(Path(args.set)))


def register(sub: Any) -> None:
    grading = sub.add_parser("grading", help="measure the graders")
    grading_sub = grading.add_subparsers(dest="grading_command", required=True)
    evaluate = grading_sub.add_parser("eval", help="score the text grader against the labelled evaluation set",
                                      description=cmd_grading_eval.__doc__)
    evaluate.add_argument("--set", default=str(DEFAULT_SET), help="directory of labelled answer files")
    evaluate.set_defaults(handler=cmd_grading_eval)
