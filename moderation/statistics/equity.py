"""Equity: do school findings change with the communities schools serve?

The question a district asks: do schools serving low-income communities hold lower (or more
generous) expectations? Each school's standard (rubric points, > 0 lenient) and local-versus-
blind gap are regressed on each numeric context column of a schools file by a random-effects
meta-regression, weighted by each school's own uncertainty, so a school measured on few raters
cannot drive the slope (Raudenbush 2009, "Analyzing effect sizes: random-effects models", in
The Handbook of Research Synthesis; Viechtbauer 2010, "Conducting meta-analyses in R with the
metafor package", J. Statistical Software 36(3), rma with mods):

    y_i = b0 + b1 x_i + u_i + e_i,   u_i ~ N(0, tau^2),   e_i ~ N(0, v_i),   v_i = SE_i^2.

tau^2 (residual between-school variance) by restricted maximum likelihood, Fisher scoring as in
Viechtbauer (2005), "Bias and efficiency of meta-analytic variance estimators in the
random-effects model", J. Educational and Behavioral Statistics 30(3); b by weighted least
squares with weights 1 / (v_i + tau^2); its SE and interval by Knapp & Hartung (2003), "Improved
tests for a random effects meta-regression with a single covariate", Statistics in Medicine
22(17): the WLS covariance times the weighted residual mean square, Student's t with k - 2 df
(metafor's test="knha", without truncating the factor at 1).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import IO

import numpy as np
import pandas as pd

from moderation.statistics.distributions import t_isf, t_sf
from moderation.statistics.table import FIRST_DATA_LINE, RatingsFileError

PRIMARY = "low_income_share"
REQUIRED = ("school", PRIMARY, "grade_band")
SHARE_SUFFIX = "_share"     # columns read as shares of a whole: slopes per 10 percentage points
PER_SHARE = 10.0            # percentage points in the slope's unit
OUTCOMES = {"standard_points": ("standard_points_se", "leniency"),
            "local_gap": ("local_gap_se", "the local-versus-blind gap")}
MIN_SCHOOLS = 5             # a slope and tau^2 need a few degrees of freedom to mean anything
TOLERANCE = 1e-10
MAX_ITERATIONS = 100


class SchoolsFileError(RatingsFileError):
    """A schools file that cannot be used; `line` as in RatingsFileError."""


@dataclass(frozen=True)
class MetaRegression:
    """One random-effects meta-regression y ~ 1 + x: intercept and slope (in y per unit of x)
    with the slope's Knapp-Hartung SE, 95% interval and p (H0 slope = 0), tau^2 (REML), and
    the number of estimates k."""

    intercept: float
    slope: float
    slope_se: float
    slope_ci95: tuple[float, float]
    p: float
    tau2: float
    k: int


def load_schools(source: str | IO) -> pd.DataFrame:
    """Read and validate a schools CSV: columns school, low_income_share, grade_band, and any
    other columns (numeric ones are context variables). low_income_share is a share of
    pupils, given either as a fraction (0 to 1) or as a percentage (0 to 100): a column with
    any value above 1 is read as percentages. Every *_share column is read the same way and
    returned as percentages (0-100). Other columns that hold a number on every line are
    context variables too; the rest (names, notes) are kept as text.

    Returns a frame indexed by school. Raises SchoolsFileError naming the line of a missing,
    repeated or unreadable value.
    """
    table = pd.read_csv(source, dtype=str, keep_default_na=False, skipinitialspace=True)
    missing = [name for name in REQUIRED if name not in table.columns]
    if missing:
        raise SchoolsFileError(f"missing column {', '.join(missing)} (needs "
                               f"{', '.join(REQUIRED)})", line=1)
    lines = np.arange(len(table)) + FIRST_DATA_LINE
    for name in ("school", "grade_band"):
        empty = np.flatnonzero(table[name].str.strip() == "")
        if empty.size:
            raise SchoolsFileError(f"{name} is empty", line=int(lines[empty[0]]))
    repeated = np.flatnonzero(table["school"].duplicated().to_numpy())
    if repeated.size:
        raise SchoolsFileError(f"school {table['school'].iloc[repeated[0]]!r} appears twice",
                               line=int(lines[repeated[0]]))
    out = table.set_index("school")
    for name in [column for column in table.columns if column not in ("school", "grade_band")]:
        values = pd.to_numeric(table[name].str.strip(), errors="coerce")
        if name != "low_income_share" and values.isna().any():
            continue  # not a number on every line: a text column, not a context variable
        bad = np.flatnonzero(values.isna().to_numpy())
        if bad.size:
            raise SchoolsFileError(f"{name} {table[name].iloc[bad[0]]!r} is not a number",
                                   line=int(lines[bad[0]]))
        if name.endswith(SHARE_SUFFIX):
            values = _as_percent(values, name, lines)
        out[name] = values.to_numpy()
    return out


def _as_percent(values: pd.Series, name: str, lines: np.ndarray) -> pd.Series:
    outside = np.flatnonzero(((values < 0) | (values > 100)).to_numpy())
    if outside.size:
        raise SchoolsFileError(f"{name} {values.iloc[outside[0]]:g} is not a share (0 to 1, "
                               "or a percentage 0 to 100)", line=int(lines[outside[0]]))
    return values * 100 if values.max() <= 1 else values


def meta_regression(y, v, x) -> MetaRegression | None:
    """The meta-regression of estimates y (variances v) on x (see the module); None with
    fewer than MIN_SCHOOLS estimates or no spread in x."""
    y, v, x = (np.asarray(values, dtype=float) for values in (y, v, x))
    keep = np.isfinite(y) & np.isfinite(v) & (v > 0) & np.isfinite(x)
    y, v, x = y[keep], v[keep], x[keep]
    if y.size < MIN_SCHOOLS or np.ptp(x) == 0:
        return None
    design = np.column_stack([np.ones_like(x), x])
    tau2 = reml_tau2(y, v, design)
    weights = 1.0 / (v + tau2)
    information = design.T @ (weights[:, None] * design)
    beta = np.linalg.solve(information, design.T @ (weights * y))
    df = y.size - design.shape[1]
    residual_square = float(weights @ (y - design @ beta) ** 2) / df
    se = float(np.sqrt(residual_square * np.linalg.inv(information)[1, 1]))
    half = t_isf(0.025, df) * se
    return MetaRegression(intercept=float(beta[0]), slope=float(beta[1]), slope_se=se,
                          slope_ci95=(float(beta[1] - half), float(beta[1] + half)),
                          p=float(2 * t_sf(abs(beta[1]) / se, df)) if se > 0 else float("nan"),
                          tau2=float(tau2), k=int(y.size))


def reml_tau2(y: np.ndarray, v: np.ndarray, design: np.ndarray) -> float:
    """REML residual heterogeneity by Fisher scoring (Viechtbauer 2005, eq. 24 with moderators:
    tau^2 += (y'PPy - tr P) / tr PP, P = W - W X (X'WX)^-1 X'W), started at 0 and kept >= 0,
    as metafor's rma(method="REML")."""
    tau2 = 0.0
    for _ in range(MAX_ITERATIONS):
        weights = 1.0 / (v + tau2)
        weighted = weights[:, None] * design
        projection = np.diag(weights) - weighted @ np.linalg.solve(design.T @ weighted,
                                                                   weighted.T)
        py = projection @ y
        step = (py @ py - np.trace(projection)) / np.sum(projection * projection)
        new = max(tau2 + step, 0.0)
        if abs(new - tau2) < TOLERANCE:
            return new
        tau2 = new
    return tau2


def equity(schools: pd.DataFrame, context: pd.DataFrame) -> list[dict]:
    """Per numeric context column and per outcome, the meta-regression over the schools with
    a figure (see the module), as report entries.

    schools: school_findings' table (indexed by school, suppressed schools with NaN figures);
    context: load_schools' frame. Entries by context column, low_income_share first, then in
    the frame's order; each entry: context, outcome, slope (rubric points per 10
    percentage points for *_share columns, else per unit), slope_per, slope_ci95, slope_se,
    p, tau2, intercept, n_schools (with a figure and a context value), n_suppressed,
    n_unmatched (schools in the ratings without a context row), sentence.
    """
    # Low-income share first: the district's equity question is asked of it before any other.
    numeric = sorted((name for name in context.columns
                      if pd.api.types.is_numeric_dtype(context[name])),
                     key=lambda name: name != PRIMARY)
    matched = schools.join(context[numeric], how="inner")
    n_unmatched = int((~schools.index.isin(context.index)).sum())
    n_suppressed = int(matched["suppressed"].sum())
    entries = []
    for name in numeric:
        scale, unit = (PER_SHARE, "10 percentage points") if name.endswith(SHARE_SUFFIX) \
            else (1.0, f"1 unit of {name}")
        for outcome, (se_name, words) in OUTCOMES.items():
            result = meta_regression(matched[outcome], matched[se_name] ** 2,
                                     matched[name] / scale)
            entry = {"context": name, "outcome": outcome, "slope_per": unit,
                     "n_suppressed": n_suppressed, "n_unmatched": n_unmatched}
            entries.append(entry | _result_entry(result, name, words, unit,
                                                 matched[[outcome, se_name, name]]))
    return entries


def _result_entry(result: MetaRegression | None, name: str, words: str, unit: str,
                  data: pd.DataFrame) -> dict:
    n = int(data.notna().all(axis=1).sum())
    if result is None:
        sentence = (f"Too few schools ({n}) with {words} and {name} to relate them "
                    f"(at least {MIN_SCHOOLS} needed).") if n < MIN_SCHOOLS else (
            f"Every one of the {n} schools with {words} has the same {name}: there is no "
            "spread to relate it to.")
        return {"slope": None, "slope_se": None, "slope_ci95": None, "p": None, "tau2": None,
                "intercept": None, "n_schools": n, "sentence": sentence}
    low, high = result.slope_ci95
    clear = low > 0 or high < 0
    verdict = ("rises" if result.slope > 0 else "falls") if clear else "does not change clearly"
    return {"slope": result.slope, "slope_se": result.slope_se, "slope_ci95": [low, high],
            "p": result.p, "tau2": result.tau2, "intercept": result.intercept,
            "n_schools": result.k,
            "sentence": (f"Across {result.k} schools, {words} {verdict} with {name}: slope "
                         f"{result.slope:+.2f} points per {unit} ({low:+.2f} to {high:+.2f}, "
                         f"95% interval; p = {result.p:.2g}).")}


def unmatched(schools: pd.Index, context: pd.DataFrame) -> tuple[list[str], list[str]]:
    """(schools in the ratings the schools file does not list, schools in the file the
    ratings never name), each sorted."""
    return (sorted(set(schools) - set(context.index)), sorted(set(context.index) - set(schools)))
