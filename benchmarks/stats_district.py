"""District-scale benchmark of moderation.statistics, with the naive library calls beside it.

Generates the synthetic district (300 schools, 3,000 raters, 60,000 samples of 5 criteria,
3 blind ratings each, 5 anchors scored by every rater: about 1.04 million rows of which 975,000
are blind), writes it as a CSV and runs the whole command on it,
`python -m moderation.statistics analyze district.csv --out report.json`: first in this process,
printing every step (read, validate, each analysis step, JSON write) with its wall time and
memory, then end to end as a subprocess (wall time and its maximum resident set size, imports
included: what a user waits for). Then the descriptive statistics one by one beside the same
work done by calling the libraries naively, then how well the planted truth was recovered.

Memory is the process's peak resident set size (VmHWM in /proc/self/status) during the step,
after resetting the peak through /proc/self/clear_refs; "+MB" is that peak minus the resident
size when the step started, i.e. what the step itself needed at most. Both include everything
Python allocates, not just numpy arrays (unlike tracemalloc). Indented steps run inside the
step above them. The machine may be shared: the load average is printed with the figures.

    .venv/bin/python benchmarks/stats_district.py                 # the district
    .venv/bin/python benchmarks/stats_district.py --local-fraction 0.5 --anchors 20  # 1.35M rows
    .venv/bin/python benchmarks/stats_district.py --schools 60 --samples 12000   # smaller
    .venv/bin/python benchmarks/stats_district.py --naive-full    # also dense alpha overall
"""

from __future__ import annotations

import argparse
import os
import subprocess
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

from moderation.statistics import __main__ as command  # noqa: E402
from moderation.statistics import analysis, table  # noqa: E402
from moderation.statistics.icc import intraclass_correlations  # noqa: E402
from moderation.statistics.reliability import (  # noqa: E402
    krippendorff_alpha,
    pair_agreement,
    unit_values,
)
from moderation.statistics.table import encode_blind  # noqa: E402
from seed_data.synthetic import DistrictParams, generate_district, recovery_figures  # noqa: E402

PINGOUIN_SAMPLES = 2_000
# The steps of the command, in the order it runs them: (module, function it calls by that name,
# label). Timing wraps the name in its module, so the command runs its own code unchanged;
# steps called inside another show indented.
COMMAND_STEPS = [
    (table, "read_cells", "read the CSV (pyarrow.csv)"),
    (table, "validate_ratings", "validate"),
    (analysis, "encode_blind", "encode the latest blind ratings"),
    (analysis, "fit_many_facet_rasch", "many-facet Rasch fit (JMLE)"),
    (analysis, "fair_averages", "fair averages"),
    (analysis, "_scale_and_bias", "rating scale and bias tables"),
    (analysis, "model_rows", "model rows (expected score of each rating)"),
    (analysis, "bias_tables", "bias tables (rater x criterion, rater x school)"),
    (analysis, "_school_table", "schools"),
    (analysis, "school_findings", "school findings (standards, local gaps, suppression)"),
    (analysis, "_drift", "drift"),
    (analysis, "detect_drift", "drift (change-point per rater)"),
    (analysis, "rater_effects", "halo and central tendency"),
    (analysis, "_reliability", "alpha (1,000 bootstrap replicates), agreement, ICC"),
    (analysis, "criterion_matrices", "agreement matrices (confusion, readings)"),
    (analysis, "_with_disagreement", "samples with the most disagreement"),
    (analysis, "_raters", "raters"),
    (analysis, "anchor_agreement", "anchor agreement"),
    (analysis, "anchor_confusions", "anchor confusions"),
    (analysis, "district_drift_power", "drift power"),
    (analysis, "_schools", "school entries"),
    (analysis, "summarize_design", "design (with linkage strength)"),
    (analysis, "_json_ready", "JSON-ready values"),
    (analysis, "evaluate_triggers", "triggers"),
    (command, "_write", "JSON write"),
]


def resident_mb(field: str) -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return float("nan")


class Steps:
    """Runs steps, printing wall time and peak memory of each as it finishes.

    Steps may nest: before a step resets the peak, the peak so far is credited to every step
    still open, so an outer step's peak covers its inner ones."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.peak: dict[str, float] = {}
        self.results: dict[str, object] = {}
        self._open: list[list] = []       # [name, peak so far] of the running steps
        print(f"{'step':<62} {'wall s':>8} {'peak RSS MB':>12} {'+MB':>8}")

    def run(self, name: str, work: Callable[[], object]) -> object:
        self._credit_peak()
        with open("/proc/self/clear_refs", "w") as clear:
            clear.write("5")        # reset the peak resident size to the current one
        before = resident_mb("VmRSS")
        self._open.append([name, before])
        started = time.perf_counter()
        try:
            result = work()
        finally:
            self.seconds[name] = time.perf_counter() - started
            self._credit_peak()
            self.peak[name] = self._open.pop()[1]
        self.results[name] = result
        label = "  " * len(self._open) + name
        print(f"{label:<62} {self.seconds[name]:>8.2f} {self.peak[name]:>12,.0f} "
              f"{self.peak[name] - before:>8,.0f}", flush=True)
        return result

    def _credit_peak(self) -> None:
        peak = resident_mb("VmHWM")
        for step in self._open:
            step[1] = max(step[1], peak)


def command_in_steps(steps: Steps, path: Path, out: Path) -> None:
    """The command, in this process, with each of COMMAND_STEPS timed."""
    originals = [(module, name, getattr(module, name)) for module, name, _ in COMMAND_STEPS]

    def timed(module, name: str, function: Callable, label: str) -> Callable:
        def step(*args, **kwargs):
            # The original inside the step, so that a recursive function is timed once.
            setattr(module, name, function)
            try:
                return steps.run(label, lambda: function(*args, **kwargs))
            finally:
                setattr(module, name, step)
        return step

    for (module, name, function), (_, _, label) in zip(originals, COMMAND_STEPS, strict=True):
        setattr(module, name, timed(module, name, function, label))
    try:
        status = steps.run("the whole command (in this process)", lambda: command.main(
            ["analyze", str(path), "--out", str(out), "--seed", "0"]))
    finally:
        for module, name, function in originals:
            setattr(module, name, function)
    if status != 0:
        raise SystemExit(f"the command failed with exit status {status}")


# `python -m moderation.statistics ARGS` that also writes its own peak resident size (VmHWM, kB)
# to the file named first. The child's RUSAGE_CHILDREN maximum will not do: Linux counts in it
# the resident size of the parent it was forked from (this benchmark, about 1 GB by then), so
# a command that never passed 0.7 GB read as 1.0 GB.
PEAK_REPORTING_COMMAND = """
import runpy, sys
peak_file = sys.argv.pop(1)
sys.argv[0] = "moderation.statistics"
try:
    runpy.run_module("moderation.statistics", run_name="__main__", alter_sys=True)
finally:
    with open("/proc/self/status") as status, open(peak_file, "w") as peak:
        peak.write(next(line for line in status if line.startswith("VmHWM:")).split()[1])
"""


def command_as_subprocess(path: Path, out: Path) -> tuple[float, float]:
    """Wall seconds and maximum resident set size (MB) of the command run as a user runs it
    (the same module and arguments; its peak read by itself at exit, see
    PEAK_REPORTING_COMMAND)."""
    peak_file = out.with_suffix(".peak")
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", PEAK_REPORTING_COMMAND, str(peak_file), "analyze",
                    str(path), "--out", str(out), "--seed", "0"], check=True,
                   cwd=Path(__file__).resolve().parents[1])
    seconds = time.perf_counter() - started
    return seconds, int(peak_file.read_text()) / 1024


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
    parser.add_argument("--local-fraction", type=float, default=DistrictParams.local_fraction,
                        help="share of samples also scored by their own teacher")
    parser.add_argument("--anchors", type=int, default=DistrictParams.anchors,
                        help="calibration samples scored by every rater")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--naive-full", action="store_true",
                        help="also run dense krippendorff.alpha over all units (~11 GB)")
    parser.add_argument("--skip-naive", action="store_true")
    args = parser.parse_args(argv)
    params = DistrictParams(n_schools=args.schools, raters_per_school=args.raters_per_school,
                            samples=args.samples, local_fraction=args.local_fraction,
                            anchors=args.anchors)
    print(f"load average before: {_load()}")
    steps = Steps()
    ratings, truth = steps.run("generate district", lambda: generate_district(params, args.seed))
    blind = int((ratings["kind"] == "blind").sum())
    print(f"  {params.n_schools:,} schools, {len(truth.severity):,} raters, "
          f"{params.samples:,} samples x {params.criteria} criteria: {len(ratings):,} rows, "
          f"{blind:,} blind")
    with tempfile.TemporaryDirectory() as folder:
        path, out = Path(folder) / "district.csv", Path(folder) / "report.json"
        steps.run("write the district CSV", lambda: ratings.to_csv(path, index=False))
        print(f"\nThe command, step by step: python -m moderation.statistics analyze "
              f"district.csv --out report.json ({path.stat().st_size / 1e6:.0f} MB CSV)")
        command_in_steps(steps, path, out)
        wall, max_rss = command_as_subprocess(path, out)
        print(f"{'the whole command as a subprocess (imports included)':<62} {wall:>8.2f} "
              f"{max_rss:>12,.0f}")
    print("\nDescriptive statistics one by one, and the libraries called naively")
    descriptive(steps, encode_blind(ratings))
    if not args.skip_naive:
        naive_alpha(steps, ratings, args.naive_full)
        naive_icc(steps, ratings)
    _summary(steps, wall, max_rss)
    results = steps.results
    figures = recovery_figures(
        ratings, truth, severity=results["many-facet Rasch fit (JMLE)"].raters["severity"],
        drift=results["drift (change-point per rater)"],
        standards=results["school findings (standards, local gaps, suppression)"],
        gaps=results["school findings (standards, local gaps, suppression)"])
    print("\nRecovery of the planted truth (the command's own estimates)")
    for name, value in figures.items():
        print(f"  {name:<28} {value:.3f}")


def _load() -> str:
    return ", ".join(f"{value:.2f}" for value in os.getloadavg()) + f" on {os.cpu_count()} cores"


def _summary(steps: Steps, wall: float, max_rss: float) -> None:
    seconds = steps.seconds
    described = sum(value for name, value in seconds.items()
                    if name.startswith(("alpha (ordinal)", "exact/adjacent", "ICC (moment")))
    print(f"\nDescriptive statistics (alpha, agreement, ICC) together: {described:.2f} s "
          "(target < 1 s)")
    print(f"The whole command: {wall:.1f} s, maximum RSS {max_rss / 1024:.2f} GB as a "
          f"subprocess (target < 10 s, < 1 GB); load average after: {_load()}")


if __name__ == "__main__":
    main()
