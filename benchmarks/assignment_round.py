"""Time (and peak memory) of assigning a district blind-scoring round.

    .venv/bin/python benchmarks/assignment_round.py
    .venv/bin/python benchmarks/assignment_round.py --samples 6000 --raters 300 --uneven

Phases: assignment (assign_raters), the connectivity check the round page runs on a stored
design (design_report on the pairs), and validity-paper seeding (a common calibration set, the
validity papers of every queue and every queue's order). Times come from a plain run; peak
memory from a second run under tracemalloc, which slows Python code down.
"""

import argparse
import time
import tracemalloc
from collections.abc import Callable

import numpy as np

from moderation.scoring.assignment import (
    assign_raters,
    common_calibration_set,
    design_report,
    plan_validity_papers,
    queue_order,
)


def school_of_each(count: int, weights: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Schools for ``count`` people or samples, in proportion to the school weights."""
    sizes = np.floor(weights / weights.sum() * count).astype(int)
    sizes[: count - sizes.sum()] += 1
    return rng.permutation(np.repeat(np.arange(len(weights)), sizes))


def seed_validity_papers(plan, args: argparse.Namespace) -> tuple:
    rng = np.random.default_rng(args.seed + 1)
    anchors = [f"anchor-{i}" for i in range(args.anchors)]
    calibration = common_calibration_set(anchors, args.calibration, rng)
    pool = [anchor for anchor in anchors if anchor not in calibration]
    validity = plan_validity_papers(plan.loads, args.rate, pool, rng)
    queues = tuple(
        queue_order(live.tolist(), papers, calibration, rng)
        for live, papers in zip(plan.samples_by_rater(), validity, strict=True)
    )
    return validity, queues


def measure(phase: Callable[[], object]) -> tuple[object, float, float]:
    """The phase's result, its seconds, and its peak traced memory in MiB."""
    started = time.perf_counter()
    result = phase()
    seconds = time.perf_counter() - started
    tracemalloc.start()
    phase()
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return result, seconds, peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--samples", type=int, default=60_000)
    parser.add_argument("--raters", type=int, default=3_000)
    parser.add_argument("--schools", type=int, default=300)
    parser.add_argument("--ratings", type=int, default=3, help="ratings per sample (N)")
    parser.add_argument("--rate", type=float, default=0.1, help="validity-paper share of a queue")
    parser.add_argument("--anchors", type=int, default=40, help="anchor papers of the rubric")
    parser.add_argument("--calibration", type=int, default=5, help="common calibration set")
    parser.add_argument("--uneven", action="store_true",
                        help="school sizes drawn from a lognormal instead of equal")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    rng = np.random.default_rng(args.seed)
    weights = rng.lognormal(0, 0.6, args.schools) if args.uneven else np.ones(args.schools)
    sample_schools = school_of_each(args.samples, weights, rng)
    rater_schools = school_of_each(args.raters, weights, rng)
    print(f"District round: {args.samples:,} samples, {args.raters:,} raters in "
          f"{args.schools:,} {'uneven' if args.uneven else 'equal'} schools, "
          f"{args.ratings} ratings each, seed {args.seed}")

    plan, assign_s, assign_mb = measure(
        lambda: assign_raters(sample_schools, rater_schools, args.ratings, rng=args.seed))
    report, check_s, check_mb = measure(
        lambda: design_report(plan.pairs, sample_schools, rater_schools))
    (validity, queues), seed_s, seed_mb = measure(lambda: seed_validity_papers(plan, args))

    print(f"{'phase':<24}{'time':>10}{'peak memory':>14}")
    for name, seconds, mib in [("assignment", assign_s, assign_mb),
                               ("connectivity check", check_s, check_mb),
                               ("validity-paper seeding", seed_s, seed_mb)]:
        print(f"{name:<24}{seconds:>8.2f} s{mib:>10.1f} MiB")

    coverage = report.school_pair_coverage
    print(f"Design: {report.n_components} component(s), connected: {report.is_connected}; "
          f"loads {report.load_min}-{report.load_max}; idle raters {report.n_idle_raters}; "
          f"school pairs linked {report.linked_school_pairs:,} of {report.school_pairs:,} "
          f"({'n/a' if coverage is None else f'{coverage:.1%}'}); samples with raters from "
          f">= 2 schools {report.multi_school_sample_share:.1%}")
    papers = np.array([len(seeded) for seeded in validity])
    items = sum(len(queue) for queue in queues)
    print(f"Queues: {items:,} items; validity papers {papers.sum():,} "
          f"(share of live + validity {papers.sum() / (papers.sum() + plan.loads.sum()):.3f}, "
          f"rate {args.rate}), {papers.min()}-{papers.max()} per queue; "
          f"calibration set of {args.calibration} in every queue")


if __name__ == "__main__":
    main()
