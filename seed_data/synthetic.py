"""A synthetic district: ratings from a rating-scale many-facet Rasch model, with planted truth.

`generate_district(params, seed)` returns the validated ratings table (the contract shared by
`moderation.statistics`) and a frozen `Truth` holding what was planted, so the statistics can be
checked against it (tests/unit/statistics/test_recovery.py, benchmarks/stats_district.py) and the
demo can show a realistic completed scoring round.

The model (Linacre 1989; Andrich 1978 rating scale), for sample n, criterion i, rater j at time t:

    log(P(k) / P(k-1)) = theta_n - delta_i - lambda_j(t) - tau_k,     score = k + 1

- theta_n = quality of the sample's school + N(0, sample_sd).
- lambda_j(t) = the rater's school effect + N(0, severity_sd) + a step of +-drift_size at the
  rater's onset for a fraction of raters (positive = became harsher); `outlier_raters` raters
  chosen at random are further off by +-outlier_size, alternately harsh and lenient.
- A rater x criterion interaction (FACETS' bias term, Myford & Wolfe 2003): `interaction_raters`
  raters chosen at random are further harsh (+) or lenient (-), alternately, by
  interaction_size logits on one criterion each, chosen at random; none by default.
- With `income_leniency`, each school's raters are also more lenient by income_leniency logits
  per unit of the school's low_income_share (uniform 0-1, centred at its mean; 0.5 everywhere
  otherwise), the planted school-context relation of the equity analysis.
- Rater effects, off by default (Myford & Wolfe 2003, 2004): `halo_raters` raters form one
  impression of each sample, a score drawn from the model at the sample's mean criterion
  difficulty, and give it on each criterion with probability `halo_strength` (otherwise the
  criterion's own draw); `central_raters` other raters use thresholds `central_spread` times
  as far apart as everyone's, so their scores gather in the middle levels.
- Blind ratings: each sample is scored by `blind_ratings_per_sample` distinct raters from other
  schools, chosen at random; every rater also scores a common calibration set of anchors, so the
  rater-sample design is connected. `design="ring"` instead gives each sample a random place j
  on a ring of the R raters and has raters j and j+1 (mod R) score it, whatever their schools:
  the weakest connected design, each rater linked to two neighbours only (set anchors=0 to keep
  it a ring). Anchors carry `reference` rows with the agreed score (the
  most probable level for an average rater) and no rater.
- Local ratings: for a fraction of samples, a teacher of the sample's own school scores it too,
  with their own severity, less `inflation` logits in the inflating schools (only by their
  first `inflating_teachers` teachers when that is set: one teacher, not the school).
- Times are uniform over the term, one time per (rater, sample): a rater scores all criteria of a
  sample at once. Anchors are scored at random times too, as seeded validity papers are.

Run `python -m seed_data.synthetic --out ratings.csv [--schools-out schools.csv]` for a CSV of
the district-scale set (and its schools' context).

The response model is written out here rather than imported from `moderation.statistics`, so the
estimator is checked against an independent implementation of the model.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, fields

import numpy as np
import pandas as pd

COLUMNS = ["rater", "sample", "criterion", "score", "scored_at",
           "rater_school", "sample_school", "kind"]


@dataclass(frozen=True)
class DistrictParams:
    """The shape of the district and the size of what is planted (logits unless stated)."""

    n_schools: int = 300
    raters_per_school: int = 10
    samples: int = 60_000
    criteria: int = 5
    blind_ratings_per_sample: int = 3
    design: str = "random"              # "random" (as above) or "ring" (raters j and j+1 only)
    anchors: int = 5
    anchor_spread: float = 1.5          # anchor measures run evenly over +-spread
    levels: int = 4                     # rubric levels, scored 1..levels
    threshold_spread: float = 1.5       # tau runs evenly from -spread to +spread
    criterion_spread: float = 0.5       # criterion difficulties run evenly over +-spread
    sample_sd: float = 1.0
    school_quality_sd: float = 0.5
    severity_sd: float = 0.5
    lenient_fraction: float = 0.1
    harsh_fraction: float = 0.1
    school_effect: float = 0.6          # added to (harsh) or subtracted from (lenient) raters
    drift_fraction: float = 0.1
    drift_size: float = 1.0
    drift_window: tuple[float, float] = (0.2, 0.8)   # onsets fall in this part of the term
    outlier_raters: int = 0             # raters far from the rest, alternately harsh and lenient
    outlier_size: float = 1.5
    interaction_raters: int = 0         # raters off on one criterion only, alternately +-
    interaction_size: float = 1.0
    halo_raters: int = 0                # raters scoring every criterion of a sample alike
    halo_strength: float = 0.85         # chance a halo rater's criterion gets the impression
    central_raters: int = 0             # raters avoiding the extreme levels
    central_spread: float = 2.0         # their thresholds are this many times further apart
    local_fraction: float = 0.2
    inflating_fraction: float = 0.1
    inflation: float = 0.8              # logits of leniency in inflating schools' local ratings
    inflating_teachers: int = 0         # >0: only this many teachers of an inflating school do
    income_leniency: float = 0.0        # logits of leniency per unit of low_income_share
    term_start: str = "2025-09-01"
    term_days: float = 90.0


@dataclass(frozen=True)
class Truth:
    """What was planted. Severities are at the start of the term, school effects included."""

    severity: pd.Series          # by rater
    interactions: pd.DataFrame   # by interacting rater: criterion, size (logits, + = harsher)
    rater_school: pd.Series      # by rater
    drift: pd.DataFrame          # by drifting rater: onset (Timestamp), shift (logits, + = harsher)
    school_effect: pd.Series     # by school: 0 for typical, <0 lenient, >0 harsh
    inflating_schools: frozenset[str]
    school_context: pd.DataFrame  # by school: low_income_share (0-1), grade_band
    sample_measure: pd.Series    # by sample, anchors included
    criterion_difficulty: pd.Series
    thresholds: np.ndarray
    halo_raters: frozenset[str] = frozenset()
    central_raters: frozenset[str] = frozenset()


def generate_district(params: DistrictParams | None = None, seed: int | None = 0
                      ) -> tuple[pd.DataFrame, Truth]:
    """Draw a district's ratings and return (ratings, truth); same params and seed, same data."""
    p = params or DistrictParams()
    if p.design not in ("random", "ring"):
        raise ValueError(f"design must be 'random' or 'ring', not {p.design!r}")
    others = (p.n_schools - 1) * p.raters_per_school
    if p.blind_ratings_per_sample > others:
        raise ValueError(f"Each sample needs {p.blind_ratings_per_sample} blind raters from "
                         f"other schools, but there are only {others}.")
    rng = np.random.default_rng(seed)
    start = pd.Timestamp(p.term_start, tz="UTC")
    people = _plant_people(p, rng)
    samples = _plant_samples(p, rng)
    blind = _blind_ratings(p, rng, people, samples)
    local = _local_ratings(p, rng, people, samples)
    anchor = _anchor_ratings(p, rng, people, samples)
    codes = {key: np.concatenate([part[key] for part in (blind, local, anchor)])
             for key in blind}
    ratings = _ratings_frame(p, rng, people, samples, codes, start)
    return ratings, _truth(p, people, samples, start)


def _plant_people(p: DistrictParams, rng: np.random.Generator) -> dict:
    n_raters = p.n_schools * p.raters_per_school
    order = rng.permutation(p.n_schools)
    n_lenient = round(p.lenient_fraction * p.n_schools)
    n_harsh = round(p.harsh_fraction * p.n_schools)
    school_effect = np.zeros(p.n_schools)
    school_effect[order[:n_lenient]] = -p.school_effect
    school_effect[order[n_lenient:n_lenient + n_harsh]] = p.school_effect
    inflating = np.zeros(p.n_schools, dtype=bool)
    inflating[rng.permutation(p.n_schools)[:round(p.inflating_fraction * p.n_schools)]] = True
    rater_school = np.repeat(np.arange(p.n_schools), p.raters_per_school)
    drifting = rng.permutation(n_raters)[:round(p.drift_fraction * n_raters)]
    drift_onset = np.full(n_raters, np.inf)
    drift_onset[drifting] = rng.uniform(*p.drift_window, size=drifting.size)
    drift_shift = np.zeros(n_raters)
    drift_shift[drifting] = p.drift_size * rng.choice([-1.0, 1.0], size=drifting.size)
    severity = school_effect[rater_school] + rng.normal(0, p.severity_sd, n_raters)
    if p.outlier_raters:  # drawn last and only when asked, so other districts keep their draws
        outliers = rng.permutation(n_raters)[:p.outlier_raters]
        severity[outliers] += p.outlier_size * np.resize([1.0, -1.0], outliers.size)
    interaction = np.zeros((n_raters, p.criteria))
    if p.interaction_raters:  # likewise drawn last and only when asked
        biased = rng.permutation(n_raters)[:p.interaction_raters]
        on = rng.integers(0, p.criteria, biased.size)
        interaction[biased, on] = p.interaction_size * np.resize([1.0, -1.0], biased.size)
    # Context from its own stream, so districts without it keep their draws.
    income = np.random.default_rng(rng.bit_generator.seed_seq.spawn(1)[0]) \
        .uniform(0, 1, p.n_schools) if p.income_leniency else np.full(p.n_schools, 0.5)
    # Leniency lowers severity; centred at the mean share so the average rater stays put.
    severity -= p.income_leniency * (income - income.mean())[rater_school]
    halo = np.zeros(n_raters, dtype=bool)
    spread = np.ones(n_raters)
    if p.halo_raters or p.central_raters:  # likewise drawn only when asked
        chosen = rng.permutation(n_raters)
        halo[chosen[:p.halo_raters]] = True
        spread[chosen[p.halo_raters:p.halo_raters + p.central_raters]] = p.central_spread
    return {
        "n_raters": n_raters,
        "school_effect": school_effect,
        "inflating": inflating,
        "low_income_share": income,
        "rater_school": rater_school,
        "severity": severity,
        "drift_onset": drift_onset,     # fraction of the term; inf = never
        "drift_shift": drift_shift,
        "interaction": interaction,     # by rater and criterion, logits added to severity
        "halo": halo,
        "threshold_spread": spread,     # multiplies the thresholds: > 1 central tendency
    }


def _plant_samples(p: DistrictParams, rng: np.random.Generator) -> dict:
    school = np.arange(p.samples) % p.n_schools
    quality = rng.normal(0, p.school_quality_sd, p.n_schools)
    anchors = (np.linspace(-p.anchor_spread, p.anchor_spread, p.anchors) if p.anchors > 1
               else np.zeros(p.anchors))
    return {
        "school": school,
        "measure": np.concatenate([quality[school] + rng.normal(0, p.sample_sd, p.samples),
                                   anchors]),
        "difficulty": (np.linspace(-p.criterion_spread, p.criterion_spread, p.criteria)
                       if p.criteria > 1 else np.zeros(1)),
        "thresholds": np.linspace(-p.threshold_spread, p.threshold_spread, p.levels - 1),
    }


def _other_school_raters(p: DistrictParams, rng: np.random.Generator,
                         school: np.ndarray) -> np.ndarray:
    """Distinct raters per sample (one row per sample), none from the sample's own school."""
    shape = (school.size, p.blind_ratings_per_sample)
    own = np.repeat(school[:, None] * p.raters_per_school, shape[1], axis=1)
    out = np.empty(shape, dtype=np.int64)
    redraw = np.ones(shape, dtype=bool)
    while redraw.any():
        # Draw from the raters of the other schools by skipping over the own school's block.
        draw = rng.integers(0, p.n_schools * p.raters_per_school - p.raters_per_school,
                            size=int(redraw.sum()))
        draw += (draw >= own[redraw]) * p.raters_per_school
        out[redraw] = draw
        ordered = np.sort(out, axis=1)
        repeated = np.zeros(shape, dtype=bool)
        repeated[:, 1:] = ordered[:, 1:] == ordered[:, :-1]
        redraw = np.zeros(shape, dtype=bool)
        rows, cols = np.nonzero(repeated)
        redraw[rows, np.argsort(out, axis=1)[rows, cols]] = True
    return out


def _blind_ratings(p: DistrictParams, rng: np.random.Generator, people: dict,
                   samples: dict) -> dict:
    if p.design == "ring":
        place = rng.permutation(p.samples) % people["n_raters"]
        raters = np.stack([place, (place + 1) % people["n_raters"]], axis=1).ravel()
    else:
        raters = _other_school_raters(p, rng, samples["school"]).ravel()
    sample = np.repeat(np.arange(p.samples), raters.size // p.samples)
    when = rng.uniform(0, 1, sample.size)
    return _score_visits(p, rng, people, samples, raters, sample, when, np.zeros(sample.size),
                         kind=0)


def _local_ratings(p: DistrictParams, rng: np.random.Generator, people: dict,
                   samples: dict) -> dict:
    sample = np.flatnonzero(rng.uniform(size=p.samples) < p.local_fraction)
    school = samples["school"][sample]
    raters = school * p.raters_per_school + rng.integers(0, p.raters_per_school, sample.size)
    inflates = people["inflating"][school]
    if p.inflating_teachers:
        inflates &= (raters % p.raters_per_school) < p.inflating_teachers
    bonus = np.where(inflates, p.inflation, 0.0)
    return _score_visits(p, rng, people, samples, raters, sample, rng.uniform(0, 1, sample.size),
                         bonus, kind=1)


def _anchor_ratings(p: DistrictParams, rng: np.random.Generator, people: dict,
                    samples: dict) -> dict:
    raters = np.repeat(np.arange(people["n_raters"]), p.anchors)
    sample = np.tile(np.arange(p.samples, p.samples + p.anchors), people["n_raters"])
    blind = _score_visits(p, rng, people, samples, raters, sample,
                          rng.uniform(0, 1, sample.size), np.zeros(sample.size), kind=0)
    # The agreed score is the most probable level for an average rater.
    anchor = np.repeat(np.arange(p.samples, p.samples + p.anchors), p.criteria)
    criterion = np.tile(np.arange(p.criteria), p.anchors)
    eta = samples["measure"][anchor] - samples["difficulty"][criterion]
    agreed = np.argmax(_category_logits(eta, samples["thresholds"]), axis=1)
    reference = {"rater": np.full(anchor.size, -1), "sample": anchor, "criterion": criterion,
                 "category": agreed, "when": np.full(anchor.size, np.nan),
                 "kind": np.full(anchor.size, 2)}
    return {key: np.concatenate([blind[key], reference[key]]) for key in blind}


def _score_visits(p: DistrictParams, rng: np.random.Generator, people: dict, samples: dict,
                  raters: np.ndarray, sample: np.ndarray, when: np.ndarray,
                  leniency: np.ndarray, kind: int) -> dict:
    """One visit = a rater scoring every criterion of a sample at one time."""
    drifted = when >= people["drift_onset"][raters]
    severity = (people["severity"][raters] + drifted * people["drift_shift"][raters]
                - leniency)
    rater = np.repeat(raters, p.criteria)
    criterion = np.tile(np.arange(p.criteria), sample.size)
    eta = (np.repeat(samples["measure"][sample] - severity, p.criteria)
           - samples["difficulty"][criterion] - people["interaction"][rater, criterion])
    spread = people["threshold_spread"][rater]
    category = _draw(rng, eta, samples["thresholds"], spread)
    halo = people["halo"][rater]
    if halo.any():  # drawn only when planted, so other districts keep their draws
        rows = np.flatnonzero(halo)
        visit_eta = np.repeat(samples["measure"][sample] - severity
                              - samples["difficulty"].mean(), p.criteria)[rows]
        impression = _draw(rng, visit_eta, samples["thresholds"], spread[rows])
        # One impression per visit: the draw of the visit's first criterion row.
        impression = np.repeat(impression[::p.criteria], p.criteria)
        copied = rng.uniform(size=rows.size) < p.halo_strength
        category[rows[copied]] = impression[copied]
    return {"rater": rater, "sample": np.repeat(sample, p.criteria), "criterion": criterion,
            "category": category, "when": np.repeat(when, p.criteria),
            "kind": np.full(eta.size, kind)}


def _draw(rng: np.random.Generator, eta: np.ndarray, thresholds: np.ndarray,
          spread: np.ndarray) -> np.ndarray:
    """One category per eta from the rating-scale model, the thresholds times `spread`."""
    logits = _category_logits(eta, thresholds, spread)
    prob = np.exp(logits - logits.max(axis=1, keepdims=True))
    cumulative = np.cumsum(prob, axis=1)
    u = rng.uniform(size=eta.size) * cumulative[:, -1]
    return (u[:, None] > cumulative[:, :-1]).sum(axis=1)


def _category_logits(eta: np.ndarray, thresholds: np.ndarray,
                     spread: np.ndarray | float = 1.0) -> np.ndarray:
    """log P(k) up to a constant: k * eta - spread * (tau_1 + ... + tau_k), k = 0..m-1."""
    steps = np.arange(thresholds.size + 1)
    return (eta[:, None] * steps
            - np.multiply.outer(spread, np.concatenate([[0.0], np.cumsum(thresholds)])))


def _labels(prefix: str, n: int) -> np.ndarray:
    return np.array([f"{prefix}{i + 1:0{len(str(n))}d}" for i in range(n)], dtype=object)


def _ids(labels: np.ndarray, codes: np.ndarray) -> pd.Series:
    """Labels by code; code -1 is missing."""
    values = np.where(codes >= 0, labels[np.maximum(codes, 0)], None)
    return pd.Series(values, dtype="str")


def _names(p: DistrictParams, people: dict) -> dict:
    return {"school": _labels("S", p.n_schools), "rater": _labels("T", people["n_raters"]),
            "sample": np.concatenate([_labels("W", p.samples), _labels("A", p.anchors)]),
            "criterion": _labels("C", p.criteria)}


def _ratings_frame(p: DistrictParams, rng: np.random.Generator, people: dict, samples: dict,
                   codes: dict, start: pd.Timestamp) -> pd.DataFrame:
    names = _names(p, people)
    rater = codes["rater"]
    sample = codes["sample"]
    sample_school = np.where(sample < p.samples, samples["school"][np.minimum(sample,
                                                                            p.samples - 1)], -1)
    rater_school = np.where(rater >= 0, people["rater_school"][np.maximum(rater, 0)], -1)
    # Seconds of jitter keep a rater's criteria of one sample in one sitting, not one instant.
    # Whole seconds in microsecond units, as a CSV round trip through load_ratings gives.
    offset = np.round(codes["when"] * p.term_days * 86_400 + rng.uniform(0, 60, rater.size))
    scored_at = pd.Series(start + pd.to_timedelta(offset, unit="s")).dt.as_unit("us")
    scored_at = scored_at.where(codes["kind"] != 2, start)
    return pd.DataFrame({
        "rater": _ids(names["rater"], rater),
        "sample": _ids(names["sample"], sample),
        "criterion": _ids(names["criterion"], codes["criterion"]),
        "score": codes["category"].astype(np.int64) + 1,
        "scored_at": scored_at,
        "rater_school": _ids(names["school"], rater_school),
        "sample_school": _ids(names["school"], sample_school),
        "kind": _ids(np.array(["blind", "local", "reference"], dtype=object), codes["kind"]),
    }, columns=COLUMNS)


def _truth(p: DistrictParams, people: dict, samples: dict, start: pd.Timestamp) -> Truth:
    names = _names(p, people)
    drifting = np.flatnonzero(np.isfinite(people["drift_onset"]))
    onset = start + pd.to_timedelta(people["drift_onset"][drifting] * p.term_days, unit="D")
    biased, on = np.nonzero(people["interaction"])
    return Truth(
        severity=pd.Series(people["severity"], index=pd.Index(names["rater"], dtype="str",
                                                              name="rater")),
        interactions=pd.DataFrame({"criterion": names["criterion"][on],
                                   "size": people["interaction"][biased, on]},
                                  index=pd.Index(names["rater"][biased], dtype="str",
                                                 name="rater")),
        rater_school=pd.Series(names["school"][people["rater_school"]], dtype="str",
                               index=pd.Index(names["rater"], dtype="str", name="rater")),
        drift=pd.DataFrame({"onset": onset, "shift": people["drift_shift"][drifting]},
                           index=pd.Index(names["rater"][drifting], dtype="str", name="rater")),
        school_effect=pd.Series(people["school_effect"],
                                index=pd.Index(names["school"], dtype="str", name="school")),
        inflating_schools=frozenset(names["school"][people["inflating"]]),
        school_context=pd.DataFrame(
            {"low_income_share": people["low_income_share"],
             "grade_band": np.where(np.arange(p.n_schools) % 2 == 0, "primary", "secondary")},
            index=pd.Index(names["school"], dtype="str", name="school")),
        sample_measure=pd.Series(samples["measure"],
                                 index=pd.Index(names["sample"], dtype="str", name="sample")),
        criterion_difficulty=pd.Series(samples["difficulty"],
                                       index=pd.Index(names["criterion"], dtype="str",
                                                      name="criterion")),
        thresholds=samples["thresholds"],
        halo_raters=frozenset(names["rater"][people["halo"]]),
        central_raters=frozenset(names["rater"][people["threshold_spread"] != 1]),
    )


def recovery_figures(ratings: pd.DataFrame, truth: Truth, *, severity: pd.Series,
                     drift: pd.DataFrame, standards: pd.DataFrame,
                     gaps: pd.DataFrame) -> dict[str, float]:
    """How well the statistics found what was planted (for tests and the benchmark).

    severity: estimated severity by rater; drift, standards, gaps: the outputs of
    detect_drift, school_standards and local_gaps. Severity is compared with each rater's
    planted severity averaged over their blind ratings (a drifting rater's changes midway).
    School flags are judged against the planted school effects; local flags only on schools
    without one (a harsh school that inflates its own scores can net out).
    """
    planted = _average_planted_severity(ratings, truth).reindex(severity.index)
    stable = ~severity.index.isin(truth.drift.index)
    measured = severity.notna().to_numpy()
    drifting = drift.index.isin(truth.drift.index)
    found = drift.loc[drifting & drift["flagged"]].join(truth.drift.add_suffix("_true"))
    effect = truth.school_effect.reindex(standards.index)
    flag = standards["standard_flag"]
    typical = truth.school_effect.index[truth.school_effect == 0].intersection(gaps.index)
    inflating = typical.isin(list(truth.inflating_schools))
    local_flag = gaps.loc[typical, "local_flag"]
    return {
        "severity_r": float(np.corrcoef(severity[measured], planted[measured])[0, 1]),
        "severity_r_stable": float(np.corrcoef(severity[measured & stable],
                                               planted[measured & stable])[0, 1]),
        "drift_recall": float(drift.loc[drifting, "flagged"].mean()),
        "drift_false_alarm": float(drift.loc[~drifting, "flagged"].mean()),
        "drift_onset_error_days": float(
            (found["onset"] - found["onset_true"]).abs().median() / pd.Timedelta(days=1)),
        "drift_shift_ratio": float((found["shift"] / found["shift_true"]).median()),
        "lenient_recall": float((flag[effect < 0] == "lenient").mean()),
        "harsh_recall": float((flag[effect > 0] == "harsh").mean()),
        "school_false_flags": float(flag[effect == 0].notna().mean()),
        "inflating_recall": float((local_flag[inflating] == "inflated").mean()),
        "local_false_flags": float(local_flag[~inflating].notna().mean()),
    }


def _average_planted_severity(ratings: pd.DataFrame, truth: Truth) -> pd.Series:
    blind = ratings.loc[ratings["kind"] == "blind", ["rater", "scored_at"]]
    onset = truth.drift["onset"].reindex(blind["rater"]).to_numpy()
    shift = truth.drift["shift"].reindex(blind["rater"]).fillna(0.0).to_numpy()
    after = (blind["scored_at"].to_numpy() >= onset) & pd.notna(onset)
    drifted = pd.Series(after * shift, index=blind.index).groupby(blind["rater"]).mean()
    return truth.severity + drifted.reindex(truth.severity.index, fill_value=0.0)


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="CSV file to write")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--schools-out", default=None, metavar="FILE",
                        help="also write the schools CSV (school, low_income_share, grade_band) "
                             "for the analysis' --schools")
    defaults = DistrictParams()
    for field in fields(DistrictParams):
        value = getattr(defaults, field.name)
        if isinstance(value, int | float | str) and not isinstance(value, bool):
            parser.add_argument(f"--{field.name.replace('_', '-')}", type=type(value),
                                default=value)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = _parse_args(argv)
    chosen = {f.name: getattr(args, f.name) for f in fields(DistrictParams)
              if hasattr(args, f.name)}
    ratings, truth = generate_district(DistrictParams(**chosen), seed=args.seed)
    ratings.to_csv(args.out, index=False)
    print(f"{len(ratings):,} ratings written to {args.out}")
    if args.schools_out is not None:
        truth.school_context.to_csv(args.schools_out)
        print(f"{len(truth.school_context):,} schools written to {args.schools_out}")


if __name__ == "__main__":
    main()
