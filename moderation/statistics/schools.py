"""School standards: how severe a school's raters are, and how its own local scores compare.

A school's average awarded score mixes the quality of its students' work with its teachers'
leniency (in simulation own-school means correlate 0.86 with quality, 0.43 with leniency;
docs/methods.md, "School standards"), so neither
figure here uses it. Leniency comes from the many-facet Rasch severities of the school's raters,
which are comparable only inside one connected rating design (Linacre, FACETS manual,
"Subsets"; Eckes 2015, ch. 4).

A district tests every school at once, so each finding is a minimum-effect test against its
practical size with the Benjamini-Hochberg q over the schools tested (multiplicity.py), and a
school figure that rests on too few raters or cross-marked samples is suppressed, as
statistical agencies suppress small cells (NCES 2011-603).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from moderation.statistics.distributions import normal_isf, t_isf
from moderation.statistics.fair import expected_score, fair_average_at
from moderation.statistics.multiplicity import benjamini_hochberg, minimum_effect_p
from moderation.statistics.rasch import FIT_FAILURE, RaschFit
from moderation.statistics.table import (
    latest,
    latest_blind,
    positions,
    rater_schools,
    values_at,
)

Z95 = normal_isf(0.025)
SESSION_SAMPLES = 5     # samples named in a cross-school session: enough for one sitting
NOT_CONNECTED = ("its raters do not share samples with the district's main rating design, so "
                 "their severities cannot be compared with the other schools'")
NOT_MEASURED = "none of its raters has a severity (no blind ratings, or the fit failed)"
UNFIT = "{}, so no rater has a severity to average (see rasch.message)"
NO_LOCAL = "no local score of its samples has a blind score beside it"
ONE_TEACHER = ("its local scores come from one teacher, so they say nothing about the "
               "school's marking beyond that teacher")
UNFIT_LOCAL = "{}, so there is no blind expectation to compare its local scores with"
STANDARD_COLUMNS = ["n_raters", "rater_severity", "rater_severity_se", "rater_severity_lo",
                    "rater_severity_hi", "standard_points", "standard_points_se", "standard_p",
                    "reason", "n_raters_unconnected"]
GAP_COLUMNS = ["n_samples", "n_units", "n_local_raters", "local_gap", "local_gap_se",
               "local_gap_lo", "local_gap_hi", "local_p", "local_reason"]
# The figures a suppressed school does not show (its counts and reasons stay).
FIGURES = ["rater_severity", "rater_severity_se", "rater_severity_lo", "rater_severity_hi",
           "standard_points", "standard_points_se", "standard_p", "local_gap", "local_gap_se",
           "local_gap_lo", "local_gap_hi", "local_p"]


def school_findings(ratings: pd.DataFrame, fit: RaschFit, *, school_effect: float = 0.3,
                    local_gap: float = 0.25, fdr: float = 0.05, min_raters: int = 3,
                    min_samples: int = 10, blind: pd.DataFrame | None = None,
                    school_of: pd.Series | None = None) -> pd.DataFrame:
    """Every school's standard and local gap, suppressed where too few, with p, q and flags.

    The columns of school_standards and local_gaps (indexed by school, every school named in
    the table), and:
    n_cross_marked: the school's samples with a blind score by another school's rater;
    suppressed, suppressed_reason: a school with fewer than `min_raters` measured raters or
        fewer than `min_samples` cross-marked samples is suppressed (one or two teachers'
        figures are a person's, not a school's); its figures are NaN, it is not tested and
        does not count in the q-values;
    standard_q, local_q: Benjamini-Hochberg q of standard_p and local_p over the schools
        tested (not suppressed, with a figure);
    standard_flag: "harsh" / "lenient" when |rater_severity| > school_effect (logits) and
        standard_q < fdr; local_flag: "inflated" / "deflated" when |local_gap| > local_gap
        (points) and local_q < fdr; else None;
    session_samples, session_schools: for a flagged school, the samples (at most 5) for a
        cross-school session and the other schools whose raters scored them; else None.

    blind and school_of: table.latest_blind(ratings) and table.rater_schools(ratings) when the
    caller has them already (each is a pass over every rating).
    """
    school_of = rater_schools(ratings) if school_of is None else school_of
    standards = school_standards(ratings, fit, min_effect=school_effect, school_of=school_of)
    gaps = local_gaps(ratings, fit, min_gap=local_gap, standards=standards)
    table = standards.join(gaps, how="left")
    for count in ("n_samples", "n_units", "n_local_raters"):
        table[count] = table[count].fillna(0).astype(np.int64)
    table.loc[~table.index.isin(gaps.index), "local_reason"] = (
        NO_LOCAL if fit.status == "ok" else UNFIT_LOCAL.format(FIT_FAILURE[fit.status]))
    table["n_cross_marked"] = _cross_marked(ratings, school_of).reindex(table.index, fill_value=0)
    table["suppressed_reason"] = _suppression(table, min_raters, min_samples)
    table["suppressed"] = table["suppressed_reason"].notna()
    table.loc[table["suppressed"], FIGURES] = np.nan
    table["standard_q"] = benjamini_hochberg(table["standard_p"])
    table["local_q"] = benjamini_hochberg(table["local_p"])
    table["standard_flag"] = _flags(table["rater_severity"], table["standard_q"], school_effect,
                                    fdr, ("harsh", "lenient"))
    table["local_flag"] = _flags(table["local_gap"], table["local_q"], local_gap, fdr,
                                 ("inflated", "deflated"))
    _add_sessions(table, ratings, fit, latest_blind(ratings) if blind is None else blind,
                  school_of)
    return table


def school_standards(ratings: pd.DataFrame, fit: RaschFit, *, min_effect: float = 0.3,
                     school_of: pd.Series | None = None) -> pd.DataFrame:
    """A school's leniency: the mean Rasch severity of its raters, with its uncertainty.

    Input: the validated ratings table (for each rater's school: the rater_school they appear
    with most often; school_of: table.rater_schools(ratings) when the caller has it) and a fit
    of it. Every school named in rater_school or sample_school gets a row, indexed by school.

    rater_severity = mean severity (logits) of the school's raters in the main connected
    component of the rater-sample graph (fit.raters.is_connected); > 0 harsh, < 0 lenient,
    relative to the district's average rater. Its standard error counts both the measurement
    error of each severity and the spread between raters (a school is judged by its teachers,
    who are a sample of how it marks): SE^2 = (tau^2 + mean SE_j^2) / n_raters, with tau^2 the
    between-rater variance within schools, pooled over the district by the method of moments
    (within-school variance of the estimates minus their mean squared SE, floored at 0;
    DerSimonian & Laird 1986 in spirit). Pooling keeps a school with 2 raters from getting a
    tiny SE by chance. _lo and _hi: its normal 95% interval.

    standard_points (+ _se): the same in rubric points, the fair average of a rater of the
    school's mean severity minus the average rater's (> 0 lenient: its raters give more
    points; fair.py), its SE by the delta method. standard_p: the minimum-effect p of H0
    |rater_severity| <= min_effect (multiplicity.minimum_effect_p).

    Schools with no connected measured rater get NaN and a `reason`; raters outside the main
    component are counted in n_raters_unconnected and left out of the mean. When the fit did
    not converge or had too little data, every school's reason says so (with the fit's
    message).
    """
    raters = _raters_with_schools(fit, rater_schools(ratings) if school_of is None
                                  else school_of)
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
    points, points_se = _in_points(fit, mean.to_numpy(dtype=float), se.to_numpy(dtype=float))
    table = pd.DataFrame({
        "n_raters": n_raters.astype(np.int64),
        "rater_severity": mean,
        "rater_severity_se": se,
        "rater_severity_lo": mean - Z95 * se,
        "rater_severity_hi": mean + Z95 * se,
        "standard_points": points,
        "standard_points_se": points_se,
        "standard_p": minimum_effect_p(mean, se, min_effect),
        "n_raters_unconnected": unconnected.reindex(schools, fill_value=0).astype(np.int64),
    }, index=schools)
    table["reason"] = _reasons(table)
    if fit.status != "ok":
        table["reason"] = UNFIT.format(FIT_FAILURE[fit.status])
    return table[STANDARD_COLUMNS]


def _all_schools(ratings: pd.DataFrame) -> pd.Index:
    named = pd.concat([ratings["rater_school"], ratings["sample_school"]]).dropna().unique()
    return pd.Index(sorted(named), dtype="str", name="school")


def _raters_with_schools(fit: RaschFit, school_of: pd.Series) -> pd.DataFrame:
    """fit.raters with each rater's school (the one they appear with most often)."""
    raters = fit.raters[["severity", "severity_se", "is_connected"]].copy()
    if fit.status != "ok":
        raters["severity"] = np.nan
    raters["school"] = school_of.reindex(raters.index)
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


def _in_points(fit: RaschFit, severity: np.ndarray, se: np.ndarray,
               step: float = 0.01) -> tuple[np.ndarray, np.ndarray]:
    """Severity as rubric points more than the average rater gives (> 0 lenient), and its
    delta-method SE (the curve's slope by a central difference, times the SE)."""
    average = fair_average_at(fit, np.zeros(1))[0]
    points = fair_average_at(fit, severity) - average
    slope = (fair_average_at(fit, severity + step) - fair_average_at(fit, severity - step)) \
        / (2 * step)
    return points, np.abs(slope) * se


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
        values[np.asarray(holds, dtype=bool)] = label
    return pd.Series(values, index=index, dtype=object)


def unit_gaps(ratings: pd.DataFrame, fit: RaschFit,
              school_severity: pd.Series | None = None) -> pd.DataFrame:
    """One row per unit with a local score and a blind expectation: school, sample, rater
    (the local teacher), gap = local score - the score the fitted model expects from that
    teacher on that sample and criterion (points).

    The expectation uses the sample's and criterion's measures from the blind ratings and the
    local teacher's own severity from their blind marking (the school's mean severity,
    `school_severity`, for a teacher with none), so a teacher who is lenient everywhere has no
    gap: the gap is what the teacher adds when the work is their own school's. Units whose
    sample has no measure, or whose teacher has no severity to use, are left out; so is
    everything when the fit did not converge.
    """
    unit = ["sample", "criterion"]
    local = latest(ratings.loc[ratings["kind"] == "local"], unit)
    local = local.loc[local["sample_school"].notna()]
    if fit.status != "ok" or local.empty:
        return pd.DataFrame({"school": pd.Series(dtype="str"), "sample": pd.Series(dtype="str"),
                             "rater": pd.Series(dtype="str"), "gap": pd.Series(dtype=float)})
    theta = fit.samples["measure"].reindex(local["sample"]).to_numpy(dtype=float)
    delta = fit.criteria["difficulty"].reindex(local["criterion"]).to_numpy(dtype=float)
    severity = fit.raters["severity"].reindex(local["rater"]).to_numpy(dtype=float)
    if school_severity is not None:
        fallback = school_severity.reindex(local["sample_school"]).to_numpy(dtype=float)
        severity = np.where(np.isfinite(severity), severity, fallback)
    eta = theta - delta - severity
    known = np.isfinite(eta)
    expected = expected_score(eta[known], fit.thresholds.to_numpy(),
                              np.asarray(fit.categories, dtype=float))
    local = local.loc[known]
    return pd.DataFrame({"school": local["sample_school"].to_numpy(),
                         "sample": local["sample"].to_numpy(),
                         "rater": local["rater"].to_numpy(),
                         "gap": local["score"].to_numpy(dtype=float) - expected})


def local_gaps(ratings: pd.DataFrame, fit: RaschFit, *, min_gap: float = 0.25,
               standards: pd.DataFrame | None = None) -> pd.DataFrame:
    """Local-versus-blind gap: how far a school's local scores exceed what its own teachers
    give the same work when they mark blind.

    Input: the validated ratings table, its fit and (optionally) school_standards of it, whose
    rater_severity stands in for a local teacher without blind ratings. Per unit (sample,
    criterion) with a local score (the latest local rating of the unit), gap as in
    `unit_gaps`; per school (sample_school), local_gap = the mean over its units (points;
    > 0: its teachers score their own students higher than their own blind marking of the
    same work would). A school whose teachers are lenient everywhere has a lenient standard
    and no gap; the two figures are read together.

    Uncertainty: one teacher's local scores are not independent (one teacher, one class, one
    severity estimate), so the SE is cluster-robust with the local teacher as cluster (CR1:
    sum over teachers of (S_c - gap N_c)^2 / N^2, times G/(G-1); Cameron & Miller 2015, "A
    practitioner's guide to cluster-robust inference", J. Human Resources 50(2)) and the
    interval and minimum-effect p use Student's t with G - 1 degrees of freedom (G local
    teachers). A school whose local scores come from one teacher has no SE (local_reason).
    local_p: H0 |local_gap| <= min_gap.

    Returns a DataFrame indexed by school with GAP_COLUMNS (n_samples, n_units,
    n_local_raters, local_gap, local_gap_se, _lo, _hi, local_p, local_reason). Only schools
    with at least one such unit appear; an unconverged fit gives none (the reason is in
    school_findings).
    """
    severity = None if standards is None else standards["rater_severity"]
    units = unit_gaps(ratings, fit, severity)
    if units.empty:
        return pd.DataFrame(columns=GAP_COLUMNS, index=pd.Index([], dtype="str", name="school"))
    per_teacher = units.groupby(["school", "rater"])["gap"].agg(["sum", "count"])
    by_school = per_teacher.groupby(level="school")
    total, count = by_school["sum"].sum(), by_school["count"].sum()
    gap = total / count
    residual = per_teacher["sum"] - gap.reindex(per_teacher.index, level="school") \
        * per_teacher["count"]
    teachers = by_school.size()
    scale = teachers / (teachers - 1).where(teachers > 1)
    se = np.sqrt(scale * (residual ** 2).groupby(level="school").sum()) / count
    df = teachers - 1
    half = t_isf(0.025, df) * se
    table = pd.DataFrame({
        "n_samples": units.groupby("school")["sample"].nunique(),
        "n_units": count.astype(np.int64),
        "n_local_raters": teachers.astype(np.int64),
        "local_gap": gap, "local_gap_se": se,
        "local_gap_lo": gap - half, "local_gap_hi": gap + half,
        "local_p": minimum_effect_p(gap, se, min_gap, df=df),
    })
    table["local_reason"] = _labels(table.index, [(teachers.to_numpy() < 2, ONE_TEACHER)])
    table.index = pd.Index(table.index, dtype="str", name="school")
    return table[GAP_COLUMNS]


def _cross_marked(ratings: pd.DataFrame, school_of: pd.Series) -> pd.Series:
    """By school: its samples with a blind score from a rater of another school."""
    blind = ratings.loc[ratings["kind"] == "blind", ["rater", "sample", "sample_school"]]
    other = _school_of_rater(blind["rater"], school_of)
    crossed = blind.loc[blind["sample_school"].notna() & other.notna()
                        & (other != blind["sample_school"])]
    return crossed.groupby("sample_school")["sample"].nunique()


def _school_of_rater(rater: pd.Series, school_of: pd.Series) -> pd.Series:
    """rater.map(school_of) (missing for a rater without a school), by Arrow's look-up."""
    return values_at(school_of, positions(school_of.index, rater)).set_axis(rater.index)


def _suppression(table: pd.DataFrame, min_raters: int, min_samples: int) -> pd.Series:
    few_raters = table["n_raters"] < min_raters
    few_samples = table["n_cross_marked"] < min_samples
    raters = (f"fewer than {min_raters} of its raters have a severity "
              f"({{}}), so a school figure would be one or two teachers'")
    samples = f"fewer than {min_samples} of its samples were scored blind by other schools ({{}})"
    reasons = []
    for school in table.index:
        parts = []
        if few_raters[school]:
            parts.append(raters.format(table.at[school, "n_raters"]))
        if few_samples[school]:
            parts.append(samples.format(table.at[school, "n_cross_marked"]))
        reasons.append("; ".join(parts) or None)
    return pd.Series(reasons, index=table.index, dtype=object)


def _flags(effect: pd.Series, q: np.ndarray, margin: float, fdr: float,
           names: tuple[str, str]) -> pd.Series:
    """names[0] for an effect above +margin, names[1] below -margin, when q < fdr."""
    found = np.asarray(q) < fdr
    return _labels(effect.index, [(found & (effect > margin), names[0]),
                                  (found & (effect < -margin), names[1])])


def _add_sessions(table: pd.DataFrame, ratings: pd.DataFrame, fit: RaschFit,
                  blind: pd.DataFrame, school_of: pd.Series) -> None:
    """session_samples and session_schools of each flagged school (see school_findings): for a
    standard, the work its raters scored furthest from other schools' raters in the flag's
    direction; for a local gap, its own samples whose local scores are furthest from blind
    expectation. Either way other schools' teachers scored the same work blind."""
    table["session_samples"] = None
    table["session_schools"] = None
    blind = blind.assign(school=_school_of_rater(blind["rater"], school_of))
    standard = table["standard_flag"].dropna()
    local = table["local_flag"].dropna()
    differences = [_blind_differences(blind, set(standard.index))]
    if not local.empty:
        differences.append(unit_gaps(ratings, fit, table["rater_severity"])
                           .loc[lambda units: units["school"].isin(local.index)])
    for school in table.index[table["standard_flag"].notna() | table["local_flag"].notna()]:
        rows = pd.concat([frame.loc[frame["school"] == school] for frame in differences])
        upward = table.at[school, "standard_flag"] == "lenient" \
            or table.at[school, "local_flag"] == "inflated"
        per_sample = rows.groupby("sample")["gap"].mean()
        chosen = per_sample.sort_values(ascending=not upward).index[:SESSION_SAMPLES]
        others = blind.loc[blind["sample"].isin(chosen) & (blind["school"] != school),
                           "school"].dropna()
        table.at[school, "session_samples"] = sorted(chosen)
        table.at[school, "session_schools"] = sorted(others.unique())


def _blind_differences(blind: pd.DataFrame, schools: set) -> pd.DataFrame:
    """For blind ratings by raters of `schools`: the score minus the mean of the other raters'
    scores of the unit (points; > 0 more generous), as school, sample, gap."""
    unit = ["sample", "criterion"]
    grouped = blind.groupby(unit)["score"]
    total, count = grouped.transform("sum"), grouped.transform("size")
    mine = blind["school"].isin(schools) & (count > 1)
    others = (total - blind["score"]) / (count - 1)
    return pd.DataFrame({"school": blind.loc[mine, "school"],
                         "sample": blind.loc[mine, "sample"],
                         "gap": (blind["score"] - others)[mine]})
