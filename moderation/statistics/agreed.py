"""One rater's scores against agreed scores (anchor, validity and practice papers): how far
they sit from the agreed score on average, how often they match it, and which pairs of levels
they confuse. Pure: plain sequences in, frozen dataclasses out.

The mean difference's interval is Student's t on n - 1 degrees of freedom (each score a paper's
own comparison; scores of one paper on one criterion are few enough to be taken as
independent). A share's interval is Wilson's score interval (Wilson 1927; Agresti & Coull 1998,
"Approximate is better than exact"), which stays within 0 and 1 for small n and shares of 0 or 1.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from scipy.stats import t as student_t

from moderation.statistics.fair import Z95


@dataclass(frozen=True)
class MeanDifference:
    """mean of (score - agreed); ci95 None below two scores or with no spread to estimate."""

    mean: float | None
    ci95: tuple[float, float] | None
    n: int


@dataclass(frozen=True)
class Share:
    """k of n; ci95 Wilson's 95% interval, None when n is 0."""

    k: int
    n: int
    share: float | None
    ci95: tuple[float, float] | None


@dataclass(frozen=True)
class Confusion:
    """Two levels the rater mixes up: `n` scores of one where the agreed
    score is the other (either way round), `above` of them scored higher than agreed."""

    low: int
    high: int
    n: int
    above: int


def mean_difference(differences: Sequence[float]) -> MeanDifference:
    """The mean of the differences (score - agreed) with its t interval."""
    n = len(differences)
    if n == 0:
        return MeanDifference(None, None, 0)
    mean = sum(differences) / n
    if n < 2:
        return MeanDifference(mean, None, n)
    variance = sum((value - mean) ** 2 for value in differences) / (n - 1)
    half = student_t.ppf(0.975, n - 1) * math.sqrt(variance / n)
    return MeanDifference(mean, (mean - half, mean + half), n)


def share(k: int, n: int) -> Share:
    """k of n with Wilson's 95% score interval."""
    if n == 0:
        return Share(0, 0, None, None)
    p = k / n
    z2 = Z95 * Z95
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = Z95 * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    return Share(k, n, p, (max(0.0, centre - half), min(1.0, centre + half)))


def confusions(pairs: Sequence[tuple[int, int]]) -> list[Confusion]:
    """The (score, agreed) pairs that differ, grouped by the two levels whichever way round,
    most frequent first (ties: lower levels first)."""
    counts: Counter[tuple[int, int]] = Counter()
    above: Counter[tuple[int, int]] = Counter()
    for score, agreed in pairs:
        if score == agreed:
            continue
        levels = (min(score, agreed), max(score, agreed))
        counts[levels] += 1
        above[levels] += score > agreed
    ordered = sorted(counts, key=lambda levels: (-counts[levels], levels))
    return [Confusion(low, high, counts[low, high], above[low, high]) for low, high in ordered]
