"""School standards: how severe a school's raters are, and how its own local scores compare.

A school's average awarded score mixes the quality of its students' work with its teachers'
leniency (in simulation own-school means correlate 0.86 with quality, 0.43 with leniency;
docs/methods.md, "School standards"), so neither
figure here uses it. Leniency comes from the many-facet Rasch severities of the school's raters,
which are comparable only inside one connected rating design (Linacre, FACETS manual,
"Subsets"; Eckes 2015, ch. 4).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import norm

from moderation.statistics.rasch import FIT_FAILURE, RaschFit
from moderation.statistics.table import latest, latest_blind, rater_schools

Z95 = norm.isf(0.025)
MIN_LOCAL_SAMPLES = 5
NOT_CONNECTED = ("its raters do not share samples with the district's main rating design, so "
                 "their severities cannot be compared with the other schools'")
NOT_MEASURED = "none of its raters has a severity (no blind ratings, or the fit failed)"
UNFIT = "{}, so no rater has a severity to average (see rasch.message)"
STANDARD_COLUMNS = ["n_raters", "rater_severity", "rater_severity_se", "rater_severity_lo",
                    "rater_severity_hi", "standard_flag", "reason", "n_raters_unconnected"]
GAP_COLUMNS = ["n_samples", "n_units", "local_gap", "local_gap_lo", "local_gap_hi",
               "local_flag"]


def school_standards(ratings: pd.DataFrame, fit: RaschFit, *,
                     min_effect: float = 0.3) -> pd.DataFrame:
    """A school's leniency: the mean Rasch severity of its raters, with its uncertainty.

    Input: the validated ratings table (for each rater's school: the rater_school they appear
    with most often) and a fit of it. Every school named in rater_school or sample_school gets
    a row, indexed by school.

    rater_severity = mean severity (logits) of the school's raters in the main connected
    component of the rater-sample graph (fit.raters.is_connected); > 0 harsh, < 0 lenient,
    relative to the district's average rater. Its standard error counts both the measurement
    error of each severity and the spread between raters (a school is judged by its teachers,
    who are a sample of how it marks): SE^2 = (tau^2 + mean SE_j^2) / n_raters, with tau^2 the
    between-rater variance within schools, pooled over the district by the method of moments
    (within-school variance of the estimates minus their mean squared SE, floored at 0;
    DerSimonian & Laird 1986 in spirit). Pooling keeps a school with 2 raters from getting a
    tiny SE by chance.

    standard_flag: "harsh" when the 95% interval (normal) lies above 0 and the mean is at least
    `min_effect` logits, "lenient" when it lies below 0 and the mean is at most -min_effect,
    else None. Schools with no connected measured rater get None and a `reason`; raters outside
    the main component are counted in n_raters_unconnected and left out of the mean. When the
    fit did not converge or had too little data, every school's reason says so (with the fit's
    message).
    """
    raters = _raters_with_schools(ratings, fit)
    schools = _all_schools(ratings)
    connected = raters.loc[raters["is_connected"] & raters["severity"].notna()]
    grouped = connected.groupby("school")["severity"]
    n_raters = grouped.size().reindex(schools, fill_value=0)
    mean = grouped.mean().reindex(schools)
    error_variance = (connected["severity_se"] ** 2).groupby(connected["school"]).mean()
    error_variance = error_variance.reindex(schools)
    tau2 = _between_rater_variance(connected)
    se = np.sqrt((tau2 + error_variance) / n_raters.where(n_raters > 0))
    unconnected = raters.loc[~raters["is_connected"]].groupby("school").size()
    table = pd.DataFrame({
        "n_raters": n_raters.astype(np.int64),
        "rater_severity": mean,
        "rater_severity_se": se,
        "rater_severity_lo": mean - Z95 * se,
        "rater_severity_hi": mean + Z95 * se,
        "n_raters_unconnected": unconnected.reindex(schools, fill_value=0).astype(np.int64),
    }, index=schools)
    table["standard_flag"] = _standard_flags(table, min_effect)
    table["reason"] = _reasons(table)
    if fit.status != "ok":
        table["reason"] = UNFIT.format(FIT_FAILURE[fit.status])
    return table[STANDARD_COLUMNS]


def _all_schools(ratings: pd.DataFrame) -> pd.Index:
    named = pd.concat([ratings["rater_school"], ratings["sample_school"]]).dropna().unique()
    return pd.Index(sorted(named), dtype="str", name="school")


def _raters_with_schools(ratings: pd.DataFrame, fit: RaschFit) -> pd.DataFrame:
    """fit.raters with each rater's school (the one they appear with most often)."""
    raters = fit.raters[["severity", "severity_se", "is_connected"]].copy()
    if fit.status != "ok":
        raters["severity"] = np.nan
    raters["school"] = rater_schools(ratings).reindex(raters.index)
    raters["is_connected"] = raters["is_connected"].astype(bool)
    return raters.loc[raters["school"].notna()]


def _between_rater_variance(raters: pd.DataFrame) -> float:
    grouped = raters.groupby("school")["severity"]
    deviations = raters["severity"] - grouped.transform("mean")
    degrees = (grouped.size() - 1).sum()
    if degrees <= 0:
        return 0.0
    within = float((deviations ** 2).sum() / degrees)
    return max(within - float((raters["severity_se"] ** 2).mean()), 0.0)


def _standard_flags(table: pd.DataFrame, min_effect: float) -> pd.Series:
    mean = table["rater_severity"]
    return _labels(table.index, [
        ((table["rater_severity_lo"] > 0) & (mean >= min_effect), "harsh"),
        ((table["rater_severity_hi"] < 0) & (mean <= -min_effect), "lenient"),
    ])


def _reasons(table: pd.DataFrame) -> pd.Series:
    unmeasured = table["n_raters"] == 0
    return _labels(table.index, [
        (unmeasured, NOT_MEASURED),
        (unmeasured & (table["n_raters_unconnected"] > 0), NOT_CONNECTED),
    ])


def _labels(index: pd.Index, rules: list[tuple[pd.Series, str]]) -> pd.Series:
    """None, or the label of the last rule that holds (object dtype, so None stays None)."""
    values = np.full(len(index), None, dtype=object)
    for holds, label in rules:
        values[holds.to_numpy(dtype=bool)] = label
    return pd.Series(values, index=index, dtype=object)


def local_gaps(ratings: pd.DataFrame, *, min_gap: float = 0.25, seed=None,
               n_boot: int = 2000) -> pd.DataFrame:
    """Local-versus-blind gap: how a school's own local scores compare with blind scoring.

    Input: the validated ratings table. For each (sample, criterion) unit with a local score
    (the latest local rating of the unit) and at least one blind rating (each blind rater's
    latest), gap = local score - mean blind score, in score points. Units whose local row has
    no sample_school are left out.

    Per school (sample_school): local_gap = mean gap over its units; a 95% percentile interval
    from `n_boot` bootstrap resamples of the school's samples (cluster = sample, all its units
    together, since a sample's criteria share one teacher and one piece of work; Davison &
    Hinkley 1997, sec. 3.8). Schools with fewer than 5 such samples get no interval and no
    flag (a percentile interval over so few clusters is far too narrow).

    local_flag: "inflated" when the interval lies above 0 and local_gap >= min_gap, "deflated"
    when it lies below 0 and local_gap <= -min_gap, else None. A positive gap can also come
    from a school whose teachers are lenient in all their marking: read it next to
    school_standards.

    Returns a DataFrame indexed by school: n_samples, n_units, local_gap, local_gap_lo,
    local_gap_hi, local_flag. Only schools with at least one such unit appear.
    """
    units = _unit_gaps(ratings)
    if units.empty:
        return pd.DataFrame(columns=GAP_COLUMNS, index=pd.Index([], dtype="str", name="school"))
    per_sample = units.groupby(["school", "sample"], sort=True)["gap"].agg(["sum", "count"])
    per_school = per_sample.groupby(level="school")
    table = pd.DataFrame({"n_samples": per_school.size(),
                          "n_units": per_school["count"].sum(),
                          "local_gap": per_school["sum"].sum() / per_school["count"].sum()})
    table.index = pd.Index(table.index, dtype="str", name="school")
    low, high = _cluster_bootstrap(per_sample, table["n_samples"].to_numpy(), n_boot,
                                   np.random.default_rng(seed))
    enough = table["n_samples"].to_numpy() >= MIN_LOCAL_SAMPLES
    table["local_gap_lo"] = np.where(enough, low, np.nan)
    table["local_gap_hi"] = np.where(enough, high, np.nan)
    table["local_flag"] = _gap_flags(table, min_gap)
    return table[GAP_COLUMNS]


def _unit_gaps(ratings: pd.DataFrame) -> pd.DataFrame:
    """One row per unit with a local and a blind score: school, sample, gap."""
    unit = ["sample", "criterion"]
    local = latest(ratings.loc[ratings["kind"] == "local"], unit)
    local = local.loc[local["sample_school"].notna()]
    blind_mean = latest_blind(ratings).groupby(unit)["score"].mean().rename("blind")
    units = local.join(blind_mean, on=unit, how="inner")
    return pd.DataFrame({"school": units["sample_school"], "sample": units["sample"],
                         "gap": units["score"] - units["blind"]})


def _cluster_bootstrap(per_sample: pd.DataFrame, sizes: np.ndarray, n_boot: int,
                       rng: np.random.Generator, chunk: int = 100
                       ) -> tuple[np.ndarray, np.ndarray]:
    """2.5% and 97.5% quantiles of each school's resampled mean gap.

    per_sample is sorted by school, then sample; sizes are the samples per school in order.
    Each replicate redraws, within every school, as many samples as it has, with replacement.
    """
    sums = per_sample["sum"].to_numpy()
    counts = per_sample["count"].to_numpy(dtype=float)
    starts = np.r_[0, np.cumsum(sizes)[:-1]]
    school_of_slot = np.repeat(np.arange(sizes.size), sizes)
    means = np.empty((n_boot, sizes.size))
    for first in range(0, n_boot, chunk):
        reps = min(chunk, n_boot - first)
        draw = rng.random((reps, school_of_slot.size)) * sizes[school_of_slot]
        picked = starts[school_of_slot] + draw.astype(np.int64)
        total = np.add.reduceat(sums[picked], starts, axis=1)
        units = np.add.reduceat(counts[picked], starts, axis=1)
        means[first:first + reps] = total / units
    return tuple(np.quantile(means, [0.025, 0.975], axis=0))


def _gap_flags(table: pd.DataFrame, min_gap: float) -> pd.Series:
    gap = table["local_gap"]
    return _labels(table.index, [
        ((table["local_gap_lo"] > 0) & (gap >= min_gap), "inflated"),
        ((table["local_gap_hi"] < 0) & (gap <= -min_gap), "deflated"),
    ])
