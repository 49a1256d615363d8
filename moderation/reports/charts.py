"""The report's charts, from the statistics engine's report dict (report.schema.json).

Each function returns a `Chart`: its SVG (Vega-Lite rendered on the server by vl-convert, made
safe to inline under the strict CSP by `svg.render`), a title, a plain description a person
reads (with its n; sentences in `wording`), and the data behind it as a `Table`, shown beside
the chart so nothing is only in the picture. Pure: no Flask, no database. Charts are rendered
once per analysis run and stored with it (the first render in a process starts vl-convert's
engine, about 1.5 s; later ones take tens of milliseconds to a few hundred).

People are never named: raters appear under labels the caller gives (default "Rater 1..n" in
the order shown). Figures are in rubric points; > 0 means more generous.

District scale: a chart with more than `max_labelled` rows (raters or schools) drops the row
labels and draws each row as a thin interval sorted by its estimate, so 3,000 raters read as
the district's distribution in a chart of fixed height; the table still lists every row.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from statistics import NormalDist, median

import altair as alt
import pandas as pd

from moderation.reports import wording
from moderation.reports.svg import render
from moderation.reports.tables import Table
from moderation.statistics.equity import PER_SHARE, SHARE_SUFFIX

WIDTH = 560
ROW_HEIGHT = 18          # pixels per labelled row
TALL = 420               # height of a chart whose rows are too many to label
MAX_LABELLED = 60
INK, MUTED, LENIENT, HARSH, WARNING = "#1f2933", "#9aa5b1", "#1f6fb2", "#c2410c", "#b7791f"
# How an interval lies against zero, in the legend's words: (wholly above, wholly below).
RATER_SIDES = ("clearly more generous", "clearly harsher")
GAP_SIDES = ("clearly higher", "clearly lower")
NOT_CLEAR = "not clear"
FUNNEL_LIMITS = (0.95, 0.998)
RELIABILITY_THRESHOLDS = (0.667, 0.800)
POINTS_AXIS = "Rubric points (above 0: more generous)"
# Altair checks every specification against the Vega-Lite schema, row by row of its data: four
# of the eleven seconds a district's charts took. The specifications are built by this module
# alone, and the chart tests check each kind against the schema (tests/unit/reports).
VALIDATE = False
# A chart draws every rater of a district: more rows than altair's default limit of 5,000.
alt.data_transformers.disable_max_rows()


@dataclass(frozen=True)
class Chart:
    """name: a short identifier, unique among a report's charts (the SVG's ids start with
    it); svg: the inline SVG; table: the data the chart draws."""

    name: str
    title: str
    description: str
    svg: str
    table: Table

    def as_data(self) -> dict:
        """The chart as JSON-ready data, to store with its run (from_data reads it back)."""
        return {"name": self.name, "title": self.title, "description": self.description,
                "svg": self.svg, "table": {"columns": list(self.table.columns),
                                           "rows": [list(row) for row in self.table.rows]}}

    @classmethod
    def from_data(cls, data: dict) -> Chart:
        return cls(data["name"], data["title"], data["description"], data["svg"],
                   Table.of(data["table"]["columns"], data["table"]["rows"]))


def rater_severity(raters: Sequence[dict], labels: Mapping[str, str] | None = None, *,
                   max_labelled: int = MAX_LABELLED) -> Chart:
    """Caterpillar plot of report["raters"]: each measured rater's fair_average_difference
    (points against the average rater) with its 95% interval, harshest at the top, and the
    zero line. labels: rater -> the label shown (every shown rater needs one); default
    "Rater 1..n" in the sorted order. Raters without a measure are left out and counted."""
    measured = sorted((rater for rater in raters if rater["fair_average_difference_ci95"]),
                      key=lambda rater: (rater["fair_average_difference"], rater["rater"]))
    names = labels if labels is not None else {
        rater["rater"]: f"Rater {position}" for position, rater in enumerate(measured, 1)}
    missing = [rater["rater"] for rater in measured if rater["rater"] not in names]
    if missing:
        raise ValueError(f"no label given for {wording.count(len(missing), 'rater')}")
    rows = [_interval_row(names[rater["rater"]], rater["fair_average_difference"],
                          rater["fair_average_difference_ci95"], RATER_SIDES)
            for rater in measured]
    description = wording.caterpillar_description(
        len(rows), *(_verdicts(rows, side) for side in RATER_SIDES), len(raters) - len(rows))
    table = Table.of(("Rater", "Points against the average rater", "95% low", "95% high",
                      "Blind ratings"),
                     [(row["label"], row["value"], row["low"], row["high"], rater["n_ratings"])
                      for row, rater in zip(rows, measured, strict=True)])
    return _render("rater-severity", "How generous each rater is", description,
                   _interval_plot(rows, max_labelled, RATER_SIDES), table)


def local_gap(schools: Sequence[dict], *, max_labelled: int = MAX_LABELLED) -> Chart:
    """Each school's local-versus-blind gap (report["schools"][].local_gap, points) with its
    95% interval, schools in name order (by gap when too many to label), and the zero line.
    Suppressed schools and schools without local scores are left out and counted."""
    shown = sorted((school for school in schools if school["local_gap_ci95"]),
                   key=lambda school: school["school"])
    if len(shown) > max_labelled:
        shown.sort(key=lambda school: school["local_gap"])
    rows = [_interval_row(school["school"], school["local_gap"], school["local_gap_ci95"],
                          GAP_SIDES) for school in shown]
    description = wording.local_gap_description(
        len(rows), *(_verdicts(rows, side) for side in GAP_SIDES), len(schools) - len(rows))
    table = Table.of(("School", "Local minus blind (points)", "95% low", "95% high",
                      "Local samples", "Local teachers"),
                     [(row["label"], row["value"], row["low"], row["high"],
                       school["n_local_samples"], school["n_local_raters"])
                      for row, school in zip(rows, shown, strict=True)])
    return _render("local-gap", "How each school scores its own students against blind "
                   "marking", description, _interval_plot(rows, max_labelled, GAP_SIDES), table)


def school_funnel(schools: Sequence[dict], *,
                  limits: Sequence[float] = FUNNEL_LIMITS) -> Chart:
    """Funnel plot (Spiegelhalter 2005) of each school's standard_points against its
    n_cross_marked, with control limits (default 95% and 99.8%) around the district mean.

    The mean is the precision-weighted mean of the schools' standards; the limits at n are
    mean +- z * s / sqrt(n), s the median over schools of standard_points_se * sqrt(n): the
    spread of one cross-marked sample's evidence. Schools are not ranked: the table is in
    name order. Suppressed schools are left out and counted."""
    shown = sorted((school for school in schools if not school["suppressed"]
                    and school["standard_points_se"] and school["n_cross_marked"]),
                   key=lambda school: school["school"])
    zs = [NormalDist().inv_cdf(0.5 + limit / 2) for limit in limits]
    weights = [school["standard_points_se"] ** -2 for school in shown]
    mean = sum(w * school["standard_points"] for w, school in zip(weights, shown, strict=True)) \
        / sum(weights) if shown else 0.0
    spread = median(school["standard_points_se"] * math.sqrt(school["n_cross_marked"])
                    for school in shown) if shown else 0.0

    def crossed(school: dict) -> int:
        """How many of the limits the school lies beyond (0: within all)."""
        reach = abs(school["standard_points"] - mean) * math.sqrt(school["n_cross_marked"])
        return sum(reach > z * spread for z in zs)

    places = ["within", *(f"beyond {limit * 100:g}%" for limit in limits)]
    rows = [{"school": school["school"], "n": school["n_cross_marked"],
             "value": school["standard_points"], "beyond": places[crossed(school)]}
            for school in shown]
    description = wording.funnel_description(
        len(rows), mean, [sum(crossed(school) > index for school in shown)
                          for index in range(len(limits))],
        limits, sum(bool(school["suppressed"]) for school in schools))
    table = Table.of(("School", "Standard (points)", "95% low", "95% high",
                      "Cross-marked samples", "Raters", "Control limits"),
                     [(school["school"], school["standard_points"],
                       *school["standard_points_ci95"], school["n_cross_marked"],
                       school["n_raters"], row["beyond"])
                      for school, row in zip(shown, rows, strict=True)])
    # Wider limits fainter: the band inside the 95% limits reads darkest.
    layers = [_funnel_band(rows, mean, spread, z, opacity=0.28 / (index + 1))
              for index, z in enumerate(zs)]
    layers.append(_rule({"y": mean}, "y"))
    layers.append(alt.Chart(_data(rows)).mark_circle(size=48, opacity=0.9).encode(
        x=alt.X("n:Q", title="Samples cross-marked by other schools"),
        y=alt.Y("value:Q", title="Standard: " + POINTS_AXIS),
        color=alt.Color("beyond:N", title="Against the limits",
                        scale=alt.Scale(domain=places, range=[MUTED, WARNING, HARSH]))))
    return _render("school-funnel", "School standards against the evidence behind them",
                   description, alt.layer(*layers).properties(width=WIDTH, height=360), table)


def equity_plot(report: dict, context: Mapping[str, float], *,
                column: str = "low_income_share", outcome: str = "standard_points") -> Chart:
    """One school outcome (standard_points or local_gap, points, with 95% intervals) against
    one context column of the schools file (context: school -> value, as equity.load_schools
    reads it: *_share columns in percent), with the report's equity meta-regression line and
    its 95% band. The band is the Knapp-Hartung interval of the fitted line, rebuilt from the
    report's slope_se, slope_ci95 and tau2 with the schools' own weights 1 / (se^2 + tau^2)."""
    entry = next((entry for entry in report["equity"] or ()
                  if entry["context"] == column and entry["outcome"] == outcome), None)
    if entry is None:
        raise ValueError(f"the report has no equity analysis of {outcome} on {column}")
    shown = sorted((school for school in report["schools"] if not school["suppressed"]
                    and school[f"{outcome}_se"] and school[f"{outcome}_ci95"]
                    and school["school"] in context),
                   key=lambda school: school["school"])
    rows = [{"school": school["school"], "x": float(context[school["school"]]),
             "value": school[outcome], "low": school[f"{outcome}_ci95"][0],
             "high": school[f"{outcome}_ci95"][1]} for school in shown]
    words = wording.context_words(column)
    base = alt.Chart(_data(rows))
    x = alt.X("x:Q", title=words[0].upper() + words[1:]
              + (" (%)" if column.endswith(SHARE_SUFFIX) else ""))
    layers = [_fit_band(equity_line(entry, shown, context))] if entry["slope"] is not None \
        else []
    layers += [base.mark_rule(color=MUTED).encode(x=x, y="low:Q", y2="high:Q"),
               base.mark_circle(size=44, color=INK).encode(
                   x=x, y=alt.Y("value:Q", title=wording.OUTCOME_WORDS[outcome].capitalize()
                                + ": " + POINTS_AXIS))]
    description = wording.equity_sentence(entry) + wording.not_shown(
        entry["n_suppressed"], "suppressed school")
    table = Table.of(("School", words.capitalize(), "Points", "95% low", "95% high"),
                     [(row["school"], row["x"], row["value"], row["low"], row["high"])
                      for row in rows])
    return _render(f"equity-{outcome.replace('_', '-')}-{_slug(column)}",
                   f"{wording.OUTCOME_WORDS[outcome].capitalize()} and {words}", description,
                   alt.layer(*layers).properties(width=WIDTH, height=320), table)


def rater_drift(rater: dict, label: str, *, period_start: str | datetime,
                period_end: str | datetime) -> Chart:
    """A drifting rater's change over the period (the report's drift entry): level 0 before
    the onset, shift_points (rubric points, > 0 more generous) with its 95% band after it.

    The report holds the change-point estimate only (onset, severity before and after,
    shift in points), not the rater's residuals per occasion, so that is what is drawn.
    period_start, period_end: the first and last blind rating of the run. Raises ValueError
    for a rater without a drift estimate."""
    drift = rater["drift"]
    if drift["onset"] is None or drift["shift_points"] is None:
        raise ValueError(f"{label} has no drift estimate: {drift['message'] or 'not tested'}")
    start, onset, end = (_iso(moment) for moment in (period_start, drift["onset"], period_end))
    shift, interval = drift["shift_points"], drift["shift_points_ci95"]
    low, high = interval or (shift, shift)
    steps = [{"period": "before", "at": start, "value": 0.0},
             {"period": "before", "at": onset, "value": 0.0},
             {"period": "after", "at": onset, "value": shift, "low": low, "high": high},
             {"period": "after", "at": end, "value": shift, "low": low, "high": high}]
    base = alt.Chart(_data(steps))
    x = alt.X("at:T", title="Date scored", scale=alt.Scale(type="utc"))
    layers = [base.transform_filter("datum.period == 'after'").mark_area(
                  color=LENIENT if shift >= 0 else HARSH, opacity=0.18).encode(
                  x=x, y="low:Q", y2="high:Q"),
              base.mark_line(color=INK, strokeWidth=2).encode(
                  x=x, y=alt.Y("value:Q", title="Change from before: " + POINTS_AXIS),
                  detail="period:N"),
              alt.Chart(_data([{"at": onset}])).mark_rule(
                  color=MUTED, strokeDash=[4, 3]).encode(x=x)]
    description = wording.drift_description(label, drift["onset"], shift, interval,
                                            drift["n_timed"])
    table = Table.of(("Period", "From", "To", "Change from before (points)", "95% low",
                      "95% high"),
                     [("Before the change", start, onset, 0.0, None, None),
                      ("After the change", onset, end, shift, *(interval or (None, None)))])
    return _render(f"drift-{_slug(label)}", f"{label}: change during the period", description,
                   alt.layer(*layers).properties(width=WIDTH, height=260), table)


def agreement_matrix(criterion: dict, *, matrix: str = "confusion") -> Chart:
    """Heatmap of one criterion's agreement matrix (report["criteria"][]): "confusion" (each
    latest blind score on anchor and validity papers, rows, against the agreed score,
    columns) or "readings" (first against second blind reading), counts in the cells."""
    entry = criterion[matrix]
    row_name, column_name = ("Score given", "Agreed score") if matrix == "confusion" \
        else ("First reading", "Second reading")
    levels = entry["levels"]
    cells = [{"row": level, "column": other, "n": entry["counts"][i][j]}
             for i, level in enumerate(levels) for j, other in enumerate(levels)]
    darkest = max((cell["n"] for cell in cells), default=0)
    base = alt.Chart(_data(cells)).encode(
        x=alt.X("column:O", title=column_name, axis=alt.Axis(orient="top", labelAngle=0)),
        y=alt.Y("row:O", title=row_name))
    heat = base.mark_rect(stroke="white").encode(
        color=alt.Color("n:Q", title="Count", scale=alt.Scale(scheme="blues", domainMin=0)))
    counts = base.mark_text(fontSize=12).encode(
        text="n:Q", color=alt.condition(f"datum.n > {darkest / 2}", alt.value("white"),
                                        alt.value(INK)))
    side = 48 * max(len(levels), 1)
    table = Table.of((row_name, *(f"{column_name} {level}" for level in levels)),
                     [(level, *entry["counts"][i]) for i, level in enumerate(levels)])
    what = "Anchor papers" if matrix == "confusion" else "Two blind readings"
    return _render(f"{matrix}-{_slug(criterion['criterion'])}",
                   f"{what}: {criterion['criterion']}",
                   wording.agreement_description(criterion["criterion"], matrix, entry),
                   alt.layer(heat, counts).properties(width=side, height=side), table)


def reliability(criteria: Sequence[dict], *,
                thresholds: Sequence[float] = RELIABILITY_THRESHOLDS,
                icc_form: str = "ICC2") -> Chart:
    """Krippendorff's alpha (with its bootstrap 95% interval) and one ICC form (default ICC2:
    one rater, absolute agreement, with its interval) per criterion of report["criteria"],
    against the district's thresholds (tentative, reliable), drawn as lines."""
    tentative, reliable = thresholds
    rows = []
    for criterion in criteria:
        for measure, value, interval in (
                ("Alpha", criterion["alpha"], criterion["alpha_ci95"]),
                (icc_form, criterion["icc"][icc_form], criterion["icc_ci95"].get(icc_form))):
            if value is not None:
                low, high = interval or (value, value)
                rows.append({"criterion": criterion["criterion"], "measure": measure,
                             "value": value, "low": low, "high": high})
    lowest = min([0.0, *(row["low"] for row in rows)])
    scale, title = alt.Scale(domain=[lowest, 1]), "Reliability (1 = perfect agreement)"
    x = alt.X("value:Q", title=title, scale=scale)
    y = alt.Y("criterion:N", title=None, sort=None)
    base = alt.Chart(_data(rows)).encode(y=y, yOffset=alt.YOffset("measure:N"))
    colour = alt.Color("measure:N", title="Measure", scale=alt.Scale(range=[INK, LENIENT]))
    lines = alt.Chart(_data([{"value": tentative, "text": "tentative"},
                                       {"value": reliable, "text": "relied on"}]))
    layers = [lines.mark_rule(color=MUTED, strokeDash=[4, 3]).encode(x=x),
              lines.mark_text(align="left", dx=3, dy=-4, color=INK).encode(
                  x=x, y=alt.value(0), text="text:N"),
              base.mark_rule(strokeWidth=2).encode(x=alt.X("low:Q", scale=scale, title=title),
                                                   x2="high:Q", color=colour),
              base.mark_point(filled=True, size=60).encode(
                  x=x, color=colour, shape=alt.Shape("measure:N", legend=None))]
    alphas = [criterion["alpha"] for criterion in criteria if criterion["alpha"] is not None]
    description = wording.reliability_description(
        len(criteria), sum(alpha >= reliable for alpha in alphas),
        sum(tentative <= alpha < reliable for alpha in alphas), icc_form, tentative, reliable)
    table = Table.of(("Criterion", "Measure", "Value", "95% low", "95% high"),
                     [(row["criterion"], row["measure"], row["value"], row["low"], row["high"])
                      for row in rows])
    height = max(2 * ROW_HEIGHT * len(criteria), 2 * ROW_HEIGHT)
    return _render("reliability", "How far blind scores agree, per criterion", description,
                   alt.layer(*layers).properties(width=WIDTH, height=height), table)


def _interval_row(label: str, value: float, interval: Sequence[float],
                  sides: tuple[str, str]) -> dict:
    low, high = interval
    verdict = sides[0] if low > 0 else sides[1] if high < 0 else NOT_CLEAR
    return {"label": label, "value": value, "low": low, "high": high, "verdict": verdict}


def _verdicts(rows: Sequence[dict], verdict: str) -> int:
    return sum(row["verdict"] == verdict for row in rows)


def _interval_plot(rows: list[dict], max_labelled: int,
                   sides: tuple[str, str]) -> alt.LayerChart:
    """Rows (label, value, low, high, verdict) as horizontal intervals in the rows' order, a
    labelled row each up to max_labelled, else unlabelled thin lines in a fixed height."""
    labelled = len(rows) <= max_labelled
    rows = [row | {"position": position} for position, row in enumerate(rows)]
    y = alt.Y("label:N", title=None, sort=None) if labelled else \
        alt.Y("position:Q", axis=None, scale=alt.Scale(domain=[-1, len(rows)], reverse=True))
    x = alt.X("value:Q", title=POINTS_AXIS)
    colour = alt.Color("verdict:N", title=None,
                       scale=alt.Scale(domain=[*sides, NOT_CLEAR], range=[LENIENT, HARSH, MUTED]),
                       legend=alt.Legend(orient="bottom"))
    base = alt.Chart(_data(rows)).encode(y=y, color=colour)
    width = 1.5 if labelled else max(0.3, min(1.5, TALL / max(len(rows), 1)))
    layers = [base.mark_rule(strokeWidth=width).encode(x=alt.X("low:Q", title=POINTS_AXIS),
                                                       x2="high:Q"),
              _rule({"x": 0}, "x")]
    if labelled:
        layers.append(base.mark_point(filled=True, size=36).encode(x=x))
    else:   # the estimates as one line down the middle of the intervals
        layers.append(alt.Chart(_data(rows)).mark_line(color=INK, strokeWidth=1)
                      .encode(x=x, y=y, order="position:Q"))
    height = ROW_HEIGHT * max(len(rows), 1) if labelled else TALL
    return alt.layer(*layers).properties(width=WIDTH, height=height)


def _rule(at: dict, channel: str) -> alt.Chart:
    (name, _), = at.items()
    encoding = {channel: alt.X(f"{name}:Q") if channel == "x" else alt.Y(f"{name}:Q")}
    return alt.Chart(_data([at])).mark_rule(color=INK).encode(**encoding)


def _funnel_band(rows: list[dict], mean: float, spread: float, z: float,
                 opacity: float) -> alt.Chart:
    counts = [row["n"] for row in rows] or [1]
    smallest, largest = max(min(counts) * 0.8, 1.0), max(counts) * 1.05
    grid = [smallest * (largest / smallest) ** (step / 59) for step in range(60)]
    band = [{"n": n, "low": mean - z * spread / math.sqrt(n),
             "high": mean + z * spread / math.sqrt(n)} for n in grid]
    return alt.Chart(_data(band)).mark_area(color=MUTED, opacity=opacity).encode(
        x="n:Q", y="low:Q", y2="high:Q")


def equity_line(entry: dict, schools: Sequence[dict], context: Mapping[str, float],
                steps: int = 40) -> list[dict]:
    """The equity entry's fitted line over the schools' range of the context column, as rows
    {x (in the column's unit), value, low, high}: the line and its 95% Knapp-Hartung band.

    schools: the entries the regression used (with the outcome and its SE, and a context
    value). With weights w = 1 / (se^2 + tau2) and x' the context in the slope's unit, the
    fitted value at x' has variance s^2 (1 / sum w + (x' - mean_w)^2 / Sxx), and slope_se^2 =
    s^2 / Sxx; t is the multiplier of the report's own slope interval."""
    scale = PER_SHARE if entry["context"].endswith(SHARE_SUFFIX) else 1.0
    se_name = f"{entry['outcome']}_se"
    weights = [1 / (school[se_name] ** 2 + entry["tau2"]) for school in schools]
    xs = [float(context[school["school"]]) / scale for school in schools]
    centre = sum(w * x for w, x in zip(weights, xs, strict=True)) / sum(weights)
    sxx = sum(w * (x - centre) ** 2 for w, x in zip(weights, xs, strict=True))
    t = (entry["slope_ci95"][1] - entry["slope"]) / entry["slope_se"]
    line = []
    for step in range(steps + 1):
        x = min(xs) + (max(xs) - min(xs)) * step / steps
        fitted = entry["intercept"] + entry["slope"] * x
        half = t * entry["slope_se"] * math.sqrt(sxx / sum(weights) + (x - centre) ** 2)
        line.append({"x": x * scale, "value": fitted, "low": fitted - half,
                     "high": fitted + half})
    return line


def _fit_band(line: list[dict]) -> alt.LayerChart:
    base = alt.Chart(_data(line))
    return alt.layer(base.mark_area(color=LENIENT, opacity=0.15).encode(
                         x="x:Q", y="low:Q", y2="high:Q"),
                     base.mark_line(color=LENIENT, strokeWidth=2).encode(x="x:Q", y="value:Q"))


def _data(rows: list[dict]) -> pd.DataFrame:
    """A chart's rows as a frame: altair writes a frame once, as a named dataset shared by the
    layers that draw it, where rows given as values were copied into every layer and checked
    row by row (seconds for a district's 3,000 raters)."""
    return pd.DataFrame.from_records(rows)


def _render(name: str, title: str, description: str, chart: alt.TopLevelMixin,
            table: Table) -> Chart:
    spec = chart.properties(title=title, description=description).configure(
        font="sans-serif").configure_view(stroke=None).to_dict(validate=VALIDATE)
    return Chart(name, title, description,
                 render(spec, name=name, title=title, description=description), table)


def _slug(text: str) -> str:
    """An id-safe name for text, distinct for distinct texts."""
    readable = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:30]
    return f"{readable}-{hashlib.sha1(text.encode()).hexdigest()[:6]}"


def _iso(moment: str | datetime) -> str:
    return moment if isinstance(moment, str) else moment.isoformat()
