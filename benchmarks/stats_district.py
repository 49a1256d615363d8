"""District-scale benchmark of moderation.statistics, with the naive library calls beside it.

Generates the synthetic district (300 schools, 3,000 raters, 60,000 samples of 5 criteria,
3 blind ratings each, 5 anchors scored by every rater: about 1.04 million rows of which 975,000
are blind), runs each step of the analysis and prints its wall time and memory, then the same
work done by calling the libraries naively, then how well the planted truth was recovered.

Memory is the process's peak resident set size (VmHWM in /proc/self/status) during the step,
after resetting the peak through /proc/self/clear_refs; "+MB" is that peak minus the resident
size when the step started, i.e. what the step itself needed at most. Both include everything
Python allocates, not just numpy arrays (unlike tracemalloc).

    .venv/bin/python benchmarks/stats_district.py                 # the district
    .venv/bin/python benchmarks/stats_district.py --schools 60 --samples 12000   # smaller
    .venv/bin/python benchmarks/stats_district.py --naive-full    # also dense alpha overall
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import krippendorff
import numpy as np
import pandas as pd
import pingouin

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from moderation.statistics.analysis import analyze  # noqa: E402
from moderation.statistics.bias import bias_findings, bias_tables  # noqa: E402
from moderation.statistics.categories import criteria_entries, scale_thresholds  # noqa: E402
from moderation.statistics.drift import detect_drift  # noqa: E402
from moderation.statistics.icc import intraclass_correlations  # noqa: E402
from moderation.statistics.rasch import fit_many_facet_rasch  # noqa: E402
from moderation.statistics.reliability import (  # noqa: E402
    krippendorff_alpha,
    pair_agreement,
    unit_values,
)
from moderation.statistics.residuals import model_rows  # noqa: E402
from moderation.statistics.schools import school_findings  # noqa: E402
from moderation.statistics.table import encode_blind, load_ratings, validate_ratings  # noqa: E402
from seed_data.synthetic import DistrictParams, generate_district, recovery_figures  # noqa: E402

PINGOUIN_SAMPLES = 2_000


def resident_mb(field: str) -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return float("nan")


class Steps:
    """Runs steps, printing wall time and peak memory of each as it finishes."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.peak: dict[str, float] = {}
        print(f"{'step':<58} {'wall s':>8} {'peak RSS MB':>12} {'+MB':>8}")

    def run(self, name: str, work: Callable[[], object]) -> object:
        with open("/proc/self/clear_refs", "w") as clear:
            clear.write("5")        # reset the peak resident size to the current one
        before = resident_mb("VmRSS")
        started = time.perf_counter()
        result = work()
        self.seconds[name] = time.perf_counter() - started
        self.peak[name] = resident_mb("VmHWM")
        print(f"{name:<58} {self.seconds[name]:>8.2f} {self.peak[name]:>12,.0f} "
              f"{self.peak[name] - before:>8,.0f}", flush=True)
        return result


def descriptive(steps: Steps, codes) -> None:
    values = unit_values(codes)
    per_criterion = [values.of_criterion(code) for code in range(codes.criterion_ids.size)]
    steps.run("alpha (ordinal), 5 criteria + overall, no bootstrap", lambda: [
        krippendorff_alpha(counts, values.value_domain, n_bootstrap=0)
        for counts in [*per_criterion, values.counts]])
    steps.run("exact/adjacent agreement, 5 criteria + overall", lambda: [
        pair_agreement(counts, values.value_domain) for counts in [*per_criterion, values.counts]])
    steps.run("ICC (moment estimators), 5 criteria", lambda: [
        intraclass_correlations(codes.rater[codes.criterion == code],
                                codes.sample[codes.criterion == code],
                                codes.score[codes.criterion == code])
        for code in range(codes.criterion_ids.size)])
    steps.run("alpha bootstrap, 1,000 replicates x 6", lambda: [
        krippendorff_alpha(counts, values.value_domain, n_bootstrap=1000,
                           rng=np.random.default_rng(0))
        for counts in [*per_criterion, values.counts]])


def naive_alpha(steps: Steps, ratings: pd.DataFrame, full: bool) -> None:
    """krippendorff.alpha on the dense raters x units reliability_data it documents."""
    blind = ratings.loc[ratings["kind"] == "blind"]
    value_domain = np.sort(blind["score"].unique())

    def dense(rows: pd.DataFrame) -> np.ndarray:
        rater, _ = pd.factorize(rows["rater"])
        unit, _ = pd.factorize(rows["sample"] + "|" + rows["criterion"])
        data = np.full((rater.max() + 1, unit.max() + 1), np.nan)
        data[rater, unit] = rows["score"].to_numpy(dtype=float)
        return data

    first = blind.loc[blind["criterion"] == blind["criterion"].iloc[0]]
    shape = (first["rater"].nunique(), first["sample"].nunique())
    steps.run(f"naive krippendorff.alpha, dense {shape[0]:,} x {shape[1]:,} (1 criterion)",
              lambda: krippendorff.alpha(reliability_data=dense(first), value_domain=value_domain,
                                         level_of_measurement="ordinal"))
    if full:
        steps.run("naive krippendorff.alpha, dense raters x all units (overall)",
                  lambda: krippendorff.alpha(reliability_data=dense(blind),
                                             value_domain=value_domain,
                                             level_of_measurement="ordinal"))
    else:
        print("  (overall dense alpha not run: pass --naive-full; docs/methods.md reports "
              "28 s and 10.6 GB at district scale)")


def naive_icc(steps: Steps, ratings: pd.DataFrame) -> None:
    """pingouin.intraclass_corr: on the sparse table, then on a forced complete design."""
    blind = ratings.loc[(ratings["kind"] == "blind") & ratings["sample"].str.startswith("W")]
    first = blind.loc[blind["criterion"] == blind["criterion"].iloc[0]]
    chosen = first["sample"].drop_duplicates().iloc[:PINGOUIN_SAMPLES]
    subset = first.loc[first["sample"].isin(chosen)]

    def sparse() -> str:
        try:
            pingouin.intraclass_corr(subset, targets="sample", raters="rater", ratings="score")
        except Exception as error:   # noqa: BLE001 (report whatever pingouin raises)
            return f"fails: {type(error).__name__}: {str(error).splitlines()[0][:70]}"
        return "ran"

    outcome = steps.run(f"naive pingouin ICC, sparse raters, {len(chosen):,} samples", sparse)
    print(f"  -> {outcome}")
    # Pretend the three blind raters of each sample are the same three "slots": a complete
    # crossed design pingouin accepts (not the right model for this design, only its cost).
    slots = first.assign(slot=first.groupby("sample").cumcount())
    n_samples = first["sample"].nunique()
    name = f"naive pingouin ICC, 3 slots x {n_samples:,} samples (1 criterion)"
    steps.run(name, lambda: pingouin.intraclass_corr(slots, targets="sample", raters="slot",
                                                     ratings="score"))
    print(f"  -> x {blind['criterion'].nunique()} criteria: about "
          f"{steps.seconds[name] * blind['criterion'].nunique():.1f} s with pingouin "
          f"{pingouin.__version__} (docs/methods.md reports 53 s per criterion)")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--schools", type=int, default=300)
    parser.add_argument("--raters-per-school", type=int, default=10)
    parser.add_argument("--samples", type=int, default=60_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--naive-full", action="store_true",
                        help="also run dense krippendorff.alpha over all units (~11 GB)")
    parser.add_argument("--skip-naive", action="store_true")
    args = parser.parse_args(argv)
    params = DistrictParams(n_schools=args.schools, raters_per_school=args.raters_per_school,
                            samples=args.samples)
    steps = Steps()
    ratings, truth = steps.run("generate district", lambda: generate_district(params, args.seed))
    blind = int((ratings["kind"] == "blind").sum())
    print(f"  {params.n_schools:,} schools, {len(truth.severity):,} raters, "
          f"{params.samples:,} samples x {params.criteria} criteria: {len(ratings):,} rows, "
          f"{blind:,} blind")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "district.csv"
        ratings.to_csv(path, index=False)
        steps.run("load_ratings (CSV, validated)", lambda: load_ratings(path))
    steps.run("validate_ratings (in-memory frame)", lambda: validate_ratings(ratings))
    codes = steps.run("encode blind ratings", lambda: encode_blind(ratings))
    descriptive(steps, codes)
    fit = steps.run("many-facet Rasch fit (JMLE)", lambda: fit_many_facet_rasch(ratings))
    print(f"  {fit.status}, converged {fit.converged} in {fit.iterations} iterations, "
          f"{fit.n_ratings:,} ratings")
    drift = steps.run("drift (change-point per rater)", lambda: detect_drift(ratings, fit))
    standards = gaps = steps.run("school findings (standards, local gaps, suppression)",
                                 lambda: school_findings(ratings, fit))
    rating_scale(steps, ratings, codes, fit)
    steps.run("analyze() (everything, JSON-ready)", lambda: analyze(ratings, seed=0))
    if not args.skip_naive:
        naive_alpha(steps, ratings, args.naive_full)
        naive_icc(steps, ratings)
    _summary(steps)
    figures = recovery_figures(ratings, truth, severity=fit.raters["severity"], drift=drift,
                               standards=standards, gaps=gaps)
    print("\nRecovery of the planted truth")
    for name, value in figures.items():
        print(f"  {name:<28} {value:.3f}")


def rating_scale(steps: Steps, ratings: pd.DataFrame, codes, fit) -> None:
    """The rating-scale diagnostics and the bias tables, and what the tables find."""
    rows = steps.run("model rows (expected score of each rating)", lambda: model_rows(codes, fit))
    steps.run("rating scale: thresholds, categories per criterion",
              lambda: (scale_thresholds(fit, rows), criteria_entries(fit, rows)))
    tables = steps.run("bias tables (rater x criterion, rater x school)",
                       lambda: bias_tables(ratings, codes, rows, fit))
    found = bias_findings(tables, min_points=0.25, fdr=0.05)
    print(f"  {len(tables.rater_criterion):,} rater x criterion and "
          f"{len(tables.rater_school):,} rater x school pairs tested, {len(found)} reported")


def _summary(steps: Steps) -> None:
    seconds = steps.seconds
    described = sum(value for name, value in seconds.items()
                    if name.startswith(("alpha (ordinal)", "exact/adjacent", "ICC (moment")))
    analysis = "analyze() (everything, JSON-ready)"
    print(f"\nDescriptive statistics (alpha, agreement, ICC) together: {described:.2f} s "
          "(target < 1 s)")
    print(f"analyze(): {seconds[analysis]:.1f} s, peak RSS {steps.peak[analysis] / 1024:.2f} GB "
          "for the whole process, data included (target < 60 s, < 2 GB)")


if __name__ == "__main__":
    main()
