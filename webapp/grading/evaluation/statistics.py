"""The agreement statistics of the evaluation and of the calibration page, in plain Python."""

from __future__ import annotations

from collections.abc import Sequence


def ranks(values: Sequence[float]) -> list[float]:
    """1-based ranks, ties sharing their average rank."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    result = [0.0] * len(values)
    start = 0
    while start < len(order):
        end = start
        while end + 1 < len(order) and values[order[end + 1]] == values[order[start]]:
            end += 1
        for position in range(start, end + 1):
            result[order[position]] = (start + end) / 2 + 1
        start = end + 1
    return result


def pearson(xs: Sequence[float], ys: Sequence[float]) -> float | None:
    if len(xs) < 2:
        return None
    mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
    cov = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=False))
    var_x = sum((x - mean_x) ** 2 for x in xs)
    var_y = sum((y - mean_y) ** 2 for y in ys)
    if var_x == 0 or var_y == 0:
        return None
    root: float = (var_x * var_y) ** 0.5  # a positive product: a real root (** on floats is typed Any)
    return cov / root


def spearman(xs: Sequence[float], ys: Sequence[float]) -> float | None:
    return pearson(ranks(xs), ranks(ys))


def score_band(score: float, bands: int = 5) -> int:
    """0-100 in ``bands`` equal bands (0-19, 20-39, … 80-100 by default)."""
    return min(bands - 1, int(score * bands / 100))


def weighted_kappa(xs: Sequence[int], ys: Sequence[int], categories: int) -> float | None:
    """Cohen's kappa with quadratic weights between two raters' ordinal categories 0..n-1."""
    if not xs:
        return None
    observed = [[0.0] * categories for _ in range(categories)]
    for x, y in zip(xs, ys, strict=False):
        observed[x][y] += 1
    total = len(xs)
    row = [sum(observed[i]) for i in range(categories)]
    column = [sum(observed[i][j] for i in range(categories)) for j in range(categories)]
    disagreement = expected = 0.0
    for i in range(categories):
        for j in range(categories):
            weight = (i - j) ** 2 / (categories - 1) ** 2
            disagreement += weight * observed[i][j]
            expected += weight * row[i] * column[j] / total
    return None if expected == 0 else 1 - disagreement / expected
