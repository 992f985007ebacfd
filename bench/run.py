"""`make bench`: run every benchmark and write docs/benchmarks.md."""

from __future__ import annotations

import importlib
import sys
from datetime import datetime, timezone
from importlib.metadata import version
from pathlib import Path

from bench.common import machine

SUITES = ["bench.pages", "bench.feedback", "bench.sandbox_overhead", "bench.data_scale"]
OUTPUT = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"


def main() -> None:
    sections = []
    for name in SUITES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError:
            continue
        print(f"running {name} …", file=sys.stderr)
        sections.append(module.report())
    versions = ", ".join(f"{p} {version(p)}" for p in ("fastapi", "starlette", "sqlalchemy", "uvicorn", "jinja2"))
    header = [
        "# Benchmarks",
        "",
        "Written by `make bench` (not part of `make test`). Every figure is min / median / max over several runs,",
        "and each is compared with a reference measured in the same command.",
        "",
        f"- Date: {datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}",
        f"- Machine: {machine()}",
        f"- Versions: {versions}",
        "",
    ]
    OUTPUT.write_text("\n".join(header + sections))
    print(f"wrote {OUTPUT}", file=sys.stderr)


if __name__ == "__main__":
    main()
