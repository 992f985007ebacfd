"""What one sandboxed process may use, and the rlimits that enforce it."""

from __future__ import annotations

import math
import resource
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any


@dataclass(frozen=True)
class Limits:
    cpu_seconds: float = 5
    wall_seconds: float = 10
    memory_mb: int = 512
    processes: int = 64
    file_size_mb: int = 1
    open_files: int = 64
    output_bytes: int = 64 * 1024

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> Limits:
        """A question's ``limits`` (unknown keys and nulls ignored, defaults for the rest)."""
        kinds = {f.name: float if f.type == "float" else int for f in fields(cls)}
        values: dict[str, Any] = {k: kinds[k](v) for k, v in (data or {}).items() if k in kinds and v is not None}
        return cls(**values)  # each value converted to its own field's type above

    @property
    def work_dir_bytes(self) -> int:
        return max(16, 4 * self.file_size_mb) << 20


# The trusted test runner's own allowance: it never runs candidate code, but it parses what the
# candidate's app answers, so it is capped too (responses are also cut at RESPONSE_LIMIT).
RUNNER_LIMITS = Limits(cpu_seconds=30, wall_seconds=30, memory_mb=1024, processes=64, open_files=256)


def rlimits(limits: Limits, *, nproc: int | None) -> list[tuple[int, tuple[int, int]]]:
    """The (resource, (soft, hard)) pairs to set in the child, never above what we have."""
    cpu, mem = max(1, math.ceil(limits.cpu_seconds)), limits.memory_mb << 20
    wanted = {resource.RLIMIT_CORE: (0, 0), resource.RLIMIT_CPU: (cpu, cpu + 1), resource.RLIMIT_AS: (mem, mem),
              resource.RLIMIT_FSIZE: (limits.file_size_mb << 20,) * 2,
              resource.RLIMIT_NOFILE: (limits.open_files,) * 2}
    if nproc is not None:
        wanted[resource.RLIMIT_NPROC] = (nproc, nproc)
    result = []
    for kind, (soft, hard) in wanted.items():  # after the uid drop we could not raise them back
        cap = resource.getrlimit(kind)[1]
        hard = hard if cap == resource.RLIM_INFINITY else min(hard, cap)
        result.append((kind, (min(soft, hard), hard)))
    return result
