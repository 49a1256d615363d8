"""The whole analysis of a ratings table, as one JSON-ready document.

Composes reliability (alpha, agreement, ICC per criterion and overall), the many-facet Rasch
rater measures with drift, school standards and local gaps, the design summary and the
triggers. The structure is documented in `analyze`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict
from typing import IO

import numpy as np
import pandas as pd

from moderation.statistics.agreement import criterion_matrices
from moderation.statistics.bias import bias_findings, bias_tables
from moderation.statistics.categories import criteria_entries, scale_thresholds
from moderation.statistics.design import summarize_design
from moderation.statistics.disagreement import most_disagreement
from moderation.statistics.drift import UNFIT, UNMEASURED, detect_drift
from moderation.statistics.drift_power import district_drift_power, rater_detectable_shifts
from moderation.statistics.equity import equity
from moderation.statistics.fair import Z95, FairAverages, fair_average_at, fair_averages
from moderation.statistics.icc import K_METHOD, intraclass_correlations
from moderation.statistics.levels import ScoreLevels
from moderation.statistics.multiplicity import benjamini_hochberg, minimum_effect_p
from moderation.statistics.rasch import (
    FIT_FAILURE,
    PARTIAL_CREDIT,
    RATING_SCALE,
    RaschFit,
    fit_many_facet_rasch,
)
from moderation.statistics.rater_effects import group_summary, rater_effect_entries, rater_effects
from moderation.statistics.reliability import (
    ALPHA_THRESHOLDS,
    DEFAULT_BOOTSTRAP,
    LEVELS,
    AlphaResult,
    anchor_agreement,
    anchor_confusions,
    check_ratio_scores,
    krippendorff_alpha,
    pair_agreement,
    unit_values,
)
from moderation.statistics.residuals import model_rows
from moderation.statistics.schools import school_findings
from moderation.statistics.separation import separation
from moderation.statistics.table import (
    BlindCodes,
    encode_blind,
    load_ratings,
    rater_schools,
    validate_ratings,
)
from moderation.statistics.triggers import DEFAULT_THRESHOLDS, Thresholds, evaluate_triggers

NO_DRIFT = {"flagged": False, "onset": None, "shift": None, "shift_se": None,
            "shift_points": None, "shift_points_ci95": None, "severity_before": None,
            "severity_after": None, "z": None, "p_change": None, "p": None, "q": None,
            "n_timed": 0, "detectable_shift": None, "detectable_shift_points": None,
            "message": None}
# Step sizes the district's drift power is given for, besides thresholds.rater_drift (logits).
DRIFT_POWER_STEP = 1.0
# The fit's status as the report names it (rasch.RaschFit.status "ok" is "converged").
RASCH_STATUS = {"ok": "converged", "not_converged": "not_converged",
                "insufficient": "insufficient"}
# The fitted model (rasch.RaschFit.model) as the report names it.
RASCH_MODEL = {RATING_SCALE: "rating_scale", PARTIAL_CREDIT: "partial_credit"}
# 2: the fields of the engine's second version added beside the first's, none removed or renamed
# (report.schema.json describes every field).
SCHEMA_VERSION = 2
# The steps of `analyze`, in the order it runs them, as its on_step callback names them: a
# caller shows progress by step and times each (moderation.analysis stores both per run).
STEPS = ("validate", "Rasch fit", "rating scale and bias", "schools", "drift",
         "halo and central tendency", "reliability and agreement", "raters", "drift power",
         "design", "triggers")


def analyze(source: str | IO | pd.DataFrame, *, level: str = "ordinal",
            bootstrap: int = DEFAULT_BOOTSTRAP, seed: int | None = None,
            thresholds: Thresholds = DEFAULT_THRESHOLDS,
            levels: ScoreLevels | None = None, schools: pd.DataFrame | None = None,
            model: str = RATING_SCALE,
            on_step: Callable[[str], None] | None = None) -> dict:
    """Analyse a ratings table: a CSV path or buffer (load_ratings) or a frame (validate_ratings).

    levels: the rubric's allowed scores (levels.ScoreLevels); scores outside them refuse the
    table with their line. None takes any whole number, as before.

    on_step: called with each name of STEPS as that step starts (progress, timings).

    schools: school context (equity.load_schools: indexed by school, numeric context columns
    such as low_income_share in percent); None leaves `equity` None.

    model: the Rasch model, "rating-scale" (one set of thresholds for all criteria) or
    "partial-credit" (each criterion its own; rasch.fit_many_facet_rasch says when a
    criterion's unused level makes it the rating-scale fit after all, and rasch.model and
    rasch.message say so).

    level: Krippendorff's alpha level of measurement (ordinal for rubric scores). bootstrap:
    replicates for the alpha intervals. seed: for every random draw; None picks one, which is
    reported under "bootstrap" so that the run can be repeated.

    Returns a dict ready for json.dumps (no NaN: missing numbers are None), described field by
    field in report.schema.json (a JSON Schema the tests validate every report against):
    schema_version (2), level, n_ratings (rows of the table, every kind),
    bootstrap {replicates, seed};
    score_levels: None without levels, else {"source": "--levels" or the rubric's name,
        "criteria": {criterion: its levels, for each criterion of the table}};
    criteria: per criterion in table order, from the latest blind ratings: n_samples,
        n_ratings, n_units (pairable), alpha, alpha_ci95, alpha_p_below {"0.667", "0.800"},
        exact_agreement, adjacent_agreement, n_pairs, icc (ICC1 ... ICC3k, method, k = harmonic
        mean of raters per sample, k_method, components, ci_method, truncated, message; icc.py),
        icc_ci95 ({form: [low, high] or None}), status ("ok" | "undefined" | "insufficient",
        of alpha),
        fair_average (rubric points: the expected score of an average sample by an average
        rater on this criterion; fair.py), most_disagreement (the 5 samples whose blind
        scores on it disagree most: [{sample, criterion, spread, variance, n_ratings}];
        disagreement.py),
        confusion (agreement.py; on anchor and validity papers, each latest blind score
        against the agreed score): {levels (the rubric's for the criterion, else the scores
        observed on it), counts (rows the rater's score, columns the agreed score), n, exact
        (share on the diagonal), adjacent (share within one point), most_confused [{score,
        agreed, n}: the off-diagonal cells with a count, most frequent first]},
        readings (agreement.py; per unit with two or more blind ratings, its earliest against
        its second by scored_at): {levels, counts (rows first, columns second reading), n,
        exact, adjacent, most_confused [{first, second, n}], weighted_kappa (Cohen 1968),
        weighted_kappa_se, weighted_kappa_ci95 (Fleiss, Cohen & Everitt 1969),
        kappa_weights ("quadratic")}, categories (the criterion's rating-scale categories,
        as under rasch.criteria; None unless the Rasch fit converged);
    overall: the same reliability figures over all units of all criteria, and
        most_disagreement over all of them;
    rasch: the many-facet Rasch fit behind the rater and school figures: status ("converged",
        "not_converged" or "insufficient"), iterations, largest_change (logits, the largest
        change of any measure in the last iteration; None when insufficient), tolerance,
        max_iterations, message (plain words: how it converged, or why there are no
        measures), model ("rating_scale" or "partial_credit": the model fitted), n_ratings
        (blind ratings fitted), sample_prior (None for joint maximum likelihood, else {mean,
        sd}: the samples' normal population prior in logits, used when the design's linkage
        is below thresholds.linkage_strength),
        average_rater_fair_average (rubric points), separation {raters, samples: each n,
        mean, sd, rmse, true_sd, separation, strata, reliability, chi_square, df, p
        (separation.py), or None}; thresholds [{score, threshold, threshold_se}: the shared
        Andrich threshold of the step into each score, logits; categories.py; under
        partial credit {criterion, score, threshold, threshold_se}, each criterion's own
        thresholds]; criteria
        [per criterion: criterion, difficulty, difficulty_se, infit, outfit, infit_z,
        outfit_z, n_ratings, disordered_average, disordered_threshold (any level of it),
        categories [per score level (FACETS Table 8): score, count, percent,
        average_measure, expected_average_measure, outfit, expected_outfit (its value under
        the model), threshold and threshold_se (the criterion's own partial-credit threshold
        of the step into the level; None for the lowest), disordered_average,
        disordered_threshold (not above the level below), message (None, or why the level
        is too rare: < 10 ratings, Linacre 2002, or unused)]]; separation, fair averages,
        thresholds and criteria are None unless converged;
    raters: per rater with blind ratings: school (the rater_school seen most often),
        n_ratings, severity, severity_se, infit, outfit, infit_z, outfit_z (ZSTD),
        fair_average, fair_average_difference (rubric points, minus the average rater's;
        > 0 lenient), fair_average_difference_ci95 (many-facet Rasch; all None unless
        rasch.status is "converged"), severity_message (None when measured, else why not: the
        fit failed, or the rater is not linked to the main design, or only through extreme
        scores), severity_p (H0: |severity| <= thresholds.rater_severity, a minimum-effect
        test) and severity_q (its Benjamini-Hochberg q over the measured raters), anchor
        agreement, anchor_confusions [{score, agreed, n}: the rater's scores that differ
        from an agreed one, most frequent first], drift {flagged (|shift| beyond
        thresholds.rater_drift and q below the false-discovery rate), onset, shift,
        shift_se, shift_points (+ _ci95; rubric points, < 0 became harsher),
        severity_before, severity_after, z, p_change (change-point p), p (the larger of
        p_change and the practical-size p), q, n_timed, detectable_shift (+ _points: the
        smallest step in the middle of the period found with 80% power at the rater's load
        and timing, logits and rubric points; drift_power.py), message: None when tested,
        else why not},
        halo and central_tendency (rater_effects.py; against the Rasch model's
        expectation for the rater on the same work): {index (halo: the rater's spread of
        scores across the criteria of a sample over the spread expected on their own scale,
        < 1 halo; central_tendency: their share of middle-level scores minus the expected
        share, > 0 central tendency), reference (the index without the effect: 1 or 0),
        observed, expected (halo: per sample, sums of squared deviations across criteria;
        central_tendency: shares), se, ci95, p (H0: within thresholds.rater_halo or
        rater_central_tendency of the reference), q (Benjamini-Hochberg over the raters),
        n (samples scored), n_ratings, flag (beyond the practical size and q below the
        false-discovery rate), message (the finding when flagged; why not computed; else
        None)};
    rater_effects: {halo, central_tendency}: the raters' indices as a group: n_raters (with an
        index), mean, mean_ci95, median, n_flagged;
    drift_power: per step size (thresholds.rater_drift and 1 logit): step, step_points,
        ratings_needed (timed ratings per rater for 80% power; None when no load does),
        n_raters_enough, n_raters_tested, level (the per-rater flagging level), message;
    schools: per school (schools.school_findings): suppressed, suppressed_reason (None, or
        why: fewer than thresholds.min_school_raters measured raters or
        min_school_samples cross-marked samples; a suppressed school's figures, p, q and
        flags are None), n_raters, n_cross_marked (its samples scored blind by other
        schools), rater_severity (logits, + se, ci95), standard_points (+ se, ci95; rubric
        points more than the average rater gives, > 0 lenient), standard_p (H0
        |rater_severity| <= thresholds.school_effect), standard_q (Benjamini-Hochberg over
        the schools tested), standard_flag, standard_reason (None when measured, else why
        there is no standard), local_gap (points: local scores minus the blind Rasch
        expectation for the same work at the local teacher's own severity; > 0 the school
        scores its own students higher than its teachers' blind marking predicts), local_gap_se
        (clustered by local teacher), local_gap_ci95, local_p (H0 |gap| <=
        thresholds.local_gap), local_q, local_flag, local_reason (None, or why there is no
        gap or interval), n_local_samples, n_local_raters, session_samples and
        session_schools (a flagged school's work for a cross-school session, and the other
        schools that scored it blind; else None);
    school_counts: n_schools, n_suppressed;
    equity: None without `schools`, else per numeric context column and per outcome
        (standard_points, local_gap) a random-effects meta-regression over the schools
        (equity.py): context, outcome, slope (rubric points per slope_per: "10 percentage
        points" for *_share columns), slope_se, slope_ci95 (Knapp-Hartung), p, tau2 (REML),
        intercept, n_schools, n_suppressed, n_unmatched (schools of the ratings missing from
        the schools file), sentence (plain words); slope and the rest None when fewer than 5
        schools have a figure;
    bias: the rater x criterion and rater x school (of the sample) interactions (FACETS
        Tables 13-14; bias.py) at least thresholds.bias_points rubric points either way with
        q below thresholds.false_discovery_rate, largest first within each kind: kind
        ("rater_criterion" | "rater_school"), rater, criterion or school, n (ratings),
        effect (rubric points, observed minus expected score averaged; > 0 more generous
        than predicted), effect_ci95, bias and bias_se (logits), t, df, p (two-sided t-test
        of no bias), q (Benjamini-Hochberg over the pairs of the table); None unless the
        Rasch fit converged;
    design: connected, n_components, cross_school_share, anchors_per_rater,
        linkage_strength (algebraic connectivity of the raters' design, 0..~1, None with
        fewer than two linked raters), linkage_method (how it is computed), linkage_message
        (None, or why the design is too weak to compare raters or schools; design.py);
    thresholds: the Thresholds the findings used (triggers.Thresholds);
    triggers: kind, target, metric, value, threshold, reason, effect (rubric points or None),
        effect_ci95, n, p, q, rule (why it fired), priority (1 act first, 2 act, 3 when there
        is time), action {kind, audience, material, description}, school (of the rater or
        school, else None) (triggers.Trigger; triggers.triggers_by_school groups them into a
        short ranked list per school).
    Raises RatingsFileError for a malformed table, ValueError for an unknown level, and
    LevelOfMeasurementError (a ValueError) for the ratio level on blind scores that lie on both
    sides of zero.
    """
    if level not in LEVELS:
        raise ValueError(f"level must be one of {', '.join(LEVELS)}, not {level!r}")
    step = on_step or _no_step
    step("validate")
    ratings = validate_ratings(source, levels) if isinstance(source, pd.DataFrame) \
        else load_ratings(source, levels)
    if level == "ratio":
        check_ratio_scores(ratings.loc[ratings["kind"] == "blind", "score"].to_numpy())
    # A fresh seed short enough to type back in with --seed.
    seed = int(np.random.SeedSequence().generate_state(1)[0]) if seed is None else seed
    streams = np.random.SeedSequence(seed).spawn(1)
    codes = encode_blind(ratings)
    step("Rasch fit")
    fit = fit_many_facet_rasch(ratings, min_linkage=thresholds.linkage_strength, codes=codes,
                               model=model)
    fair = fair_averages(fit)
    blind = ratings.iloc[codes.rows]      # the latest blind ratings (encode_blind)
    school_of = rater_schools(ratings)    # each rater's school, for the schools and raters
    step("rating scale and bias")
    scale, bias = _scale_and_bias(ratings, codes, fit, thresholds)
    step("schools")
    school_table = _school_table(ratings, blind, school_of, fit, thresholds)
    step("drift")
    drift = _drift(ratings, blind, fit, thresholds)
    step("halo and central tendency")
    halo, central = rater_effects(codes, fit, halo_size=thresholds.rater_halo,
                                  central_size=thresholds.rater_central_tendency,
                                  fdr=thresholds.false_discovery_rate)
    step("reliability and agreement")
    reliability = _with_disagreement(
        _reliability(ratings, codes, level, bootstrap, streams[0], fair,
                     criterion_matrices(ratings, codes, levels)), ratings, blind)
    step("raters")
    raters = _raters(ratings, blind, school_of, codes, fit, fair, thresholds, drift,
                     rater_effect_entries(halo, central))
    step("drift power")
    power = district_drift_power(drift, fit, steps=(thresholds.rater_drift, DRIFT_POWER_STEP),
                                 fdr=thresholds.false_discovery_rate,
                                 min_shift=thresholds.rater_drift)
    step("design")
    report = {
        "schema_version": SCHEMA_VERSION,
        "level": level,
        "n_ratings": len(ratings),
        "bootstrap": {"replicates": bootstrap, "seed": seed},
        "score_levels": _levels_entry(ratings, levels),
        **reliability,
        "rasch": _rasch_entry(fit, fair) | scale,
        "raters": raters,
        "rater_effects": {"halo": group_summary(halo),
                          "central_tendency": group_summary(central)},
        "drift_power": power,
        "schools": _schools(school_table),
        "equity": None if schools is None else equity(school_table, schools),
        "bias": bias,
        "design": asdict(summarize_design(ratings, codes,
                                          min_linkage=thresholds.linkage_strength)),
        "thresholds": asdict(thresholds),
    }
    report["school_counts"] = {"n_schools": len(report["schools"]),
                               "n_suppressed": sum(entry["suppressed"]
                                                   for entry in report["schools"])}
    _categories_beside_criteria(report["criteria"], scale["criteria"])
    report = _json_ready(report)
    step("triggers")
    report["triggers"] = _json_ready([asdict(trigger)
                                      for trigger in evaluate_triggers(report, thresholds)])
    return report


def _no_step(name: str) -> None:
    """analyze's on_step when the caller follows no progress."""


def _reliability(ratings: pd.DataFrame, codes: BlindCodes, level: str, bootstrap: int,
                 stream: np.random.SeedSequence, fair: FairAverages,
                 matrices: dict[str, dict]) -> dict:
    """Per-criterion and overall alpha, agreement and (per criterion) ICC, each criterion's
    fair average and its agreement matrices (agreement.criterion_matrices)."""
    criterion_fair = fair.criteria.reindex(pd.unique(ratings["criterion"]))
    values = unit_values(codes)
    names = pd.unique(ratings["criterion"])
    streams = stream.spawn(len(names) + 1)
    criteria = []
    for name, criterion_stream in zip(names, streams[:-1], strict=True):
        # A criterion with no blind ratings has code -1: no units, no ratings.
        code = codes.criterion_ids.get_indexer([name])[0]
        units = values.of_criterion(code)
        rated = codes.criterion == code
        entry = {"criterion": name,
                 "n_samples": int(np.count_nonzero(np.bincount(codes.sample[rated]))),
                 "n_ratings": int(rated.sum())}
        entry |= _reliability_entry(units, values.value_domain, level, bootstrap,
                                    criterion_stream)
        entry["icc"], entry["icc_ci95"] = _icc_entry(codes, rated)
        entry["fair_average"] = criterion_fair[name]
        criteria.append(entry | matrices[name])
    overall = _reliability_entry(values.counts, values.value_domain, level, bootstrap,
                                 streams[-1])
    return {"criteria": criteria, "overall": overall}


def _with_disagreement(reliability: dict, ratings: pd.DataFrame, blind: pd.DataFrame) -> dict:
    """Each criterion's (and the overall) samples with the most disagreement."""
    by_criterion, overall = most_disagreement(ratings, blind=blind)
    for entry in reliability["criteria"]:
        entry["most_disagreement"] = by_criterion.get(entry["criterion"], [])
    reliability["overall"]["most_disagreement"] = overall
    return reliability


def _reliability_entry(counts: np.ndarray, value_domain: np.ndarray, level: str,
                       bootstrap: int, stream: np.random.SeedSequence) -> dict:
    alpha = krippendorff_alpha(counts, value_domain, level, n_bootstrap=bootstrap,
                               rng=np.random.default_rng(stream))
    agreement = pair_agreement(counts, value_domain)
    return {"alpha": alpha.alpha, "alpha_ci95": alpha.ci95,
            "alpha_p_below": _p_below(alpha),
            "exact_agreement": agreement.exact, "adjacent_agreement": agreement.adjacent,
            "n_units": alpha.n_units, "n_pairs": agreement.n_pairs, "status": alpha.status}


def _p_below(alpha: AlphaResult) -> dict[str, float | None]:
    return {f"{threshold:.3f}": alpha.p_below.get(threshold) for threshold in ALPHA_THRESHOLDS}


def _icc_entry(codes: BlindCodes, rated: np.ndarray) -> tuple[dict, dict]:
    result = intraclass_correlations(codes.rater[rated], codes.sample[rated], codes.score[rated])
    components = result.components
    return result.forms | {
        "method": result.method, "k": result.k, "k_method": K_METHOD,
        "components": None if components is None else {
            "sample": components.sample, "rater": components.rater, "error": components.error},
        "ci_method": result.ci_method, "truncated": list(result.truncated),
        "message": result.message}, result.ci95


def _levels_entry(ratings: pd.DataFrame, levels: ScoreLevels | None) -> dict | None:
    if levels is None:
        return None
    return {"source": levels.source,
            "criteria": {name: list(levels.of(name)) for name in pd.unique(ratings["criterion"])}}


def _rasch_entry(fit: RaschFit, fair: FairAverages) -> dict:
    converged = fit.status == "ok"
    return {"status": RASCH_STATUS[fit.status], "iterations": fit.iterations,
            "largest_change": fit.largest_change, "tolerance": fit.tolerance,
            "max_iterations": fit.max_iterations, "message": fit.message,
            "model": RASCH_MODEL[fit.model], "n_ratings": fit.n_ratings,
            "sample_prior": None if fit.sample_prior is None else dict(
                zip(("mean", "sd"), fit.sample_prior, strict=True)),
            "average_rater_fair_average": fair.average_rater,
            "separation": {"raters": _separation_entry(fit.raters, "severity", converged),
                           "samples": _separation_entry(fit.samples, "measure", converged)}}


def _scale_and_bias(ratings: pd.DataFrame, codes: BlindCodes, fit: RaschFit,
                    thresholds: Thresholds) -> tuple[dict, list | None]:
    """rasch.thresholds and rasch.criteria (categories.py), and the bias findings (bias.py);
    None unless the fit converged."""
    if fit.status != "ok":
        return {"thresholds": None, "criteria": None}, None
    rows = model_rows(codes, fit)
    steps = scale_thresholds(fit, rows)
    tables = bias_tables(ratings, codes, rows, fit)
    names = steps.index.names      # score, or criterion and score under partial credit
    return ({"thresholds": [dict(zip(names, key if isinstance(key, tuple) else (key,),
                                     strict=True), **row) for key, row in steps.iterrows()],
             "criteria": criteria_entries(fit, rows)},
            bias_findings(tables, min_points=thresholds.bias_points,
                          fdr=thresholds.false_discovery_rate))


def _categories_beside_criteria(criteria: list[dict], scale: list[dict] | None) -> None:
    """Each criterion's rating-scale categories (rasch.criteria) also beside its reliability,
    where a reader of one criterion looks for them; None unless the fit converged."""
    by_name = {entry["criterion"]: entry["categories"] for entry in scale or []}
    for entry in criteria:
        entry["categories"] = by_name.get(entry["criterion"])


def _separation_entry(table: pd.DataFrame, name: str, converged: bool) -> dict | None:
    """Separation of the measured, non-extreme elements (extreme ones have a measure from
    the score adjustment, not from the data's spread); None unless the fit converged."""
    if not converged:
        return None
    keep = table[name].notna() & ~table["is_extreme"].astype(bool)
    result = separation(table.loc[keep, name].to_numpy(), table.loc[keep, f"{name}_se"])
    return None if result is None else asdict(result)


def _drift(ratings: pd.DataFrame, blind: pd.DataFrame, fit: RaschFit,
           thresholds: Thresholds) -> pd.DataFrame:
    """Drift per rater of the fit, with the smallest step each could be found to make."""
    drift = detect_drift(ratings, fit, min_shift=thresholds.rater_drift,
                         fdr=thresholds.false_discovery_rate, blind=blind)
    return drift.join(rater_detectable_shifts(drift, fit, fdr=thresholds.false_discovery_rate,
                                              min_shift=thresholds.rater_drift))


def _raters(ratings: pd.DataFrame, blind: pd.DataFrame, school_of: pd.Series,
            codes: BlindCodes, fit: RaschFit, fair: FairAverages, thresholds: Thresholds,
            drift: pd.DataFrame, effects: dict[str, dict]) -> list:
    """One entry per rater with blind ratings, in table order; blind: the latest blind
    ratings (the rows of `codes`); school_of: table.rater_schools(ratings)."""
    ids = codes.rater_ids
    measures = fit.raters.reindex(ids)
    points = fair.raters.reindex(ids)
    drift = drift.reindex(ids)
    _drift_points(drift, fit)
    anchors = anchor_agreement(ratings, blind).reindex(ids)
    confusions = anchor_confusions(ratings, blind)
    # H0 |severity| <= the practical size (severities are centred at the average rater),
    # then Benjamini-Hochberg over the measured raters (multiplicity.py).
    severity_p = minimum_effect_p(measures["severity"], measures["severity_se"],
                                  thresholds.rater_severity)
    severity_q = benjamini_hochberg(severity_p)
    anchors["n_anchor_ratings"] = anchors["n_anchor_ratings"].fillna(0).astype(np.int64)
    schools = school_of.reindex(ids)
    n_ratings = np.bincount(codes.rater, minlength=len(ids))
    # Plain records, one per rater in the order of ids: a label look-up per cell would cost
    # seconds over thousands of raters.
    rows = zip(ids, schools.tolist(), n_ratings.tolist(), measures.to_dict("records"),
               points.to_dict("records"), anchors.to_dict("records"),
               drift.to_dict("records"), strict=True)
    return [{"rater": rater, "school": school, "n_ratings": n,
             **{name: measure[name]
                for name in ("severity", "severity_se", "infit", "outfit", "infit_z",
                             "outfit_z")},
             "severity_p": severity_p[i], "severity_q": severity_q[i],
             "fair_average": point["fair_average"],
             "fair_average_difference": point["fair_average_difference"],
             "fair_average_difference_ci95": _interval(point, "fair_average_difference"),
             "severity_message": _severity_message(fit, measure["reason"]),
             "anchor_exact_agreement": anchor["anchor_exact_agreement"],
             "n_anchor_ratings": anchor["n_anchor_ratings"],
             "anchor_confusions": confusions.get(rater, []),
             "drift": _drift_entry(rater_drift, fit), **effects[rater]}
            for i, (rater, school, n, measure, point, anchor, rater_drift) in enumerate(rows)]


def _drift_points(drift: pd.DataFrame, fit: RaschFit) -> None:
    """The step in rubric points, added to `drift`: the fair average after minus before (< 0:
    became harsher), its interval the image of the shift's with the severity before held
    fixed (as fair.py does for a rater's difference)."""
    before = drift["severity_before"].to_numpy(dtype=float)
    shift = drift["shift"].to_numpy(dtype=float)
    se = drift["shift_se"].to_numpy(dtype=float)
    base = fair_average_at(fit, before)
    drift["shift_points"] = fair_average_at(fit, before + shift) - base
    drift["shift_points_lo"] = fair_average_at(fit, before + shift + Z95 * se) - base
    drift["shift_points_hi"] = fair_average_at(fit, before + shift - Z95 * se) - base


def _severity_message(fit: RaschFit, reason) -> str | None:
    if fit.status != "ok":
        return f"No severity: {FIT_FAILURE[fit.status]} (see rasch.message)."
    return None if pd.isna(reason) else f"No severity: the rater {reason}."


def _drift_entry(row: dict, fit: RaschFit) -> dict:
    if pd.isna(row["flagged"]):
        # A rater the fit does not list (an insufficient fit lists nobody).
        message = UNFIT.format(FIT_FAILURE[fit.status]) if fit.status != "ok" else UNMEASURED
        return NO_DRIFT | {"message": message}
    low, high = row["shift_points_lo"], row["shift_points_hi"]
    interval = None if pd.isna(low) or pd.isna(high) else [low, high]
    return {"flagged": bool(row["flagged"]), "onset": row["onset"], "shift": row["shift"],
            "shift_se": row["shift_se"], "shift_points": row["shift_points"],
            "shift_points_ci95": interval, "severity_before": row["severity_before"],
            "severity_after": row["severity_after"],
            "z": row["z"], "p_change": row["p_value"], "p": row["p"], "q": row["q"],
            "n_timed": int(row["n_timed"]), "detectable_shift": row["detectable_shift"],
            "detectable_shift_points": row["detectable_shift_points"],
            "message": row["reason"]}


def _school_table(ratings: pd.DataFrame, blind: pd.DataFrame, school_of: pd.Series,
                  fit: RaschFit, thresholds: Thresholds) -> pd.DataFrame:
    return school_findings(ratings, fit, school_effect=thresholds.school_effect,
                           local_gap=thresholds.local_gap, fdr=thresholds.false_discovery_rate,
                           min_raters=thresholds.min_school_raters,
                           min_samples=thresholds.min_school_samples, blind=blind,
                           school_of=school_of)


def _schools(table: pd.DataFrame) -> list:
    """One entry per school named in the table, by name (schools.school_findings)."""
    table = table.copy()
    table["standard_points_lo"] = table["standard_points"] - Z95 * table["standard_points_se"]
    table["standard_points_hi"] = table["standard_points"] + Z95 * table["standard_points_se"]
    return [{"school": school, "suppressed": bool(row["suppressed"]),
             "suppressed_reason": row["suppressed_reason"],
             "n_raters": row["n_raters"], "n_cross_marked": row["n_cross_marked"],
             "rater_severity": row["rater_severity"],
             "rater_severity_se": row["rater_severity_se"],
             "rater_severity_ci95": _interval(row, "rater_severity"),
             "standard_points": row["standard_points"],
             "standard_points_se": row["standard_points_se"],
             "standard_points_ci95": _interval(row, "standard_points"),
             "standard_p": row["standard_p"], "standard_q": row["standard_q"],
             "standard_flag": row["standard_flag"], "standard_reason": row["reason"],
             "local_gap": row["local_gap"], "local_gap_se": row["local_gap_se"],
             "local_gap_ci95": _interval(row, "local_gap"),
             "local_p": row["local_p"], "local_q": row["local_q"],
             "local_flag": row["local_flag"], "local_reason": row["local_reason"],
             "n_local_samples": row["n_samples"], "n_local_raters": row["n_local_raters"],
             "session_samples": row["session_samples"],
             "session_schools": row["session_schools"]}
            for school, row in table.to_dict("index").items()]


def _interval(row: dict | pd.Series, name: str) -> list[float] | None:
    low, high = row[f"{name}_lo"], row[f"{name}_hi"]
    return None if pd.isna(low) or pd.isna(high) else [low, high]


def _json_ready(value):
    """Plain Python for json.dumps: NaN, NaT and pandas' missing values become None, numpy
    scalars Python numbers, times ISO 8601 strings, tuples lists."""
    if isinstance(value, dict):
        return {str(key): _json_ready(item) for key, item in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [_json_ready(item) for item in value]
    if value is None or value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
