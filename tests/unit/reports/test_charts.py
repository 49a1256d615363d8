"""Each report chart: inline-safe SVG, titled and described, with the data it draws beside it."""

import copy
import json
import re
import time
import xml.etree.ElementTree as ET

import numpy as np
import pytest
import statsmodels.api as sm

from moderation.reports import charts, wording

SVG_NS = "{http://www.w3.org/2000/svg}"


def builders(report, low_income):
    drifter = next(rater for rater in report["raters"] if rater["drift"]["flagged"])
    return {
        "rater-severity": lambda: charts.rater_severity(report["raters"]),
        "school-funnel": lambda: charts.school_funnel(report["schools"]),
        "local-gap": lambda: charts.local_gap(report["schools"]),
        "equity": lambda: charts.equity_plot(report, low_income),
        "drift": lambda: charts.rater_drift(drifter, "Rater 7", period_start="2025-09-01",
                                            period_end="2025-11-30"),
        "confusion": lambda: charts.agreement_matrix(report["criteria"][0]),
        "readings": lambda: charts.agreement_matrix(report["criteria"][1], matrix="readings"),
        "reliability": lambda: charts.reliability(report["criteria"]),
    }


def texts(svg):
    return [element.text for element in ET.fromstring(svg).iter(f"{SVG_NS}text")]


@pytest.mark.parametrize("kind", ["rater-severity", "school-funnel", "local-gap", "equity",
                                  "drift", "confusion", "readings", "reliability"])
def test_every_chart_is_inline_safe_accessible_svg_with_its_data(report, low_income, kind):
    chart = builders(report, low_income)[kind]()

    assert "<script" not in chart.svg and "<style" not in chart.svg
    assert "style=" not in chart.svg and "<foreignObject" not in chart.svg
    # No outside reference at all: the only addresses are the two namespace names.
    assert re.sub(r'xmlns(:xlink)?="[^"]*"', "", chart.svg).count("http") == 0
    root = ET.fromstring(chart.svg)
    assert root.get("aria-label") == chart.title
    assert root.find(f"{SVG_NS}title").text == chart.title
    assert root.find(f"{SVG_NS}desc").text == chart.description
    assert chart.title in texts(chart.svg)            # text is text, not outlines
    assert all(element.get("id", chart.name).startswith(chart.name) for element in root.iter())
    assert chart.table.rows and all(len(row) == len(chart.table.columns)
                                    for row in chart.table.rows)
    assert re.search(r"\d", chart.description)        # every description gives its n


@pytest.mark.parametrize("kind", ["rater-severity", "school-funnel", "local-gap", "equity",
                                  "drift", "confusion", "readings", "reliability"])
def test_every_chart_is_a_valid_vega_lite_specification(report, low_income, kind,
                                                         monkeypatch):
    """The app skips altair's schema check for speed (charts.VALIDATE); here it runs."""
    monkeypatch.setattr(charts, "VALIDATE", True)
    assert builders(report, low_income)[kind]().svg.startswith("<svg")


def test_a_chart_stored_as_json_reads_back_the_same(report, low_income):
    for build in builders(report, low_income).values():
        chart = build()
        assert charts.Chart.from_data(json.loads(json.dumps(chart.as_data()))) == chart


def test_raters_are_labelled_in_order_never_by_id(report):
    chart = charts.rater_severity(report["raters"])

    differences = [row[1] for row in chart.table.rows]
    assert differences == sorted(differences)
    assert [row[0] for row in chart.table.rows] == [f"Rater {i}"
                                                   for i in range(1, len(differences) + 1)]
    ids = {rater["rater"] for rater in report["raters"]}
    assert not ids & set(texts(chart.svg)) and ids.isdisjoint(chart.svg.split('"'))
    assert chart.description.startswith(f"Each of {len(differences)} raters:")


def test_raters_take_the_labels_given_and_unmeasured_ones_are_counted(report):
    raters = copy.deepcopy(report["raters"])
    raters[0]["fair_average_difference"] = raters[0]["fair_average_difference_ci95"] = None
    labels = {rater["rater"]: f"Colleague {rater['rater'][1:]}" for rater in raters[1:]}

    chart = charts.rater_severity(raters, labels)

    assert {row[0] for row in chart.table.rows} == set(labels.values())
    assert chart.description.endswith(" 1 rater without a measure is not shown.")
    with pytest.raises(ValueError, match="no label given for 1 rater"):
        charts.rater_severity(raters, dict(list(labels.items())[1:]))


@pytest.mark.slow   # renders 3,000 intervals: about 4 s
def test_a_district_of_3000_raters_draws_their_distribution(report):
    rng = np.random.default_rng(1)
    template = report["raters"][0]
    raters = []
    for i, (value, half) in enumerate(zip(rng.normal(0, 0.3, 3000),
                                          np.abs(rng.normal(0.2, 0.05, 3000)), strict=True)):
        raters.append(template | {"rater": f"R{i}", "fair_average_difference": value,
                                  "fair_average_difference_ci95": [value - half, value + half]})

    started = time.perf_counter()
    chart = charts.rater_severity(raters)

    assert time.perf_counter() - started < 30
    assert len(chart.table.rows) == 3000
    assert "Rater 1" not in texts(chart.svg)        # no unreadable 3,000 labels
    assert 'height="' in chart.svg and int(re.search(r'height="(\d+)', chart.svg)[1]) < 700


def school(name, value, n, suppressed=False):
    se = 0.8 / n ** 0.5
    return {"school": name, "suppressed": suppressed, "n_raters": 4, "n_cross_marked": n,
            "standard_points": None if suppressed else value,
            "standard_points_se": None if suppressed else se,
            "standard_points_ci95": None if suppressed else [value - 1.96 * se,
                                                             value + 1.96 * se]}


def test_funnel_marks_schools_beyond_the_limits_without_ranking_them():
    near = zip(("Oak", "Ash", "Elm", "Yew", "Lime", "Pine", "Bay", "Rowan"),
               (-0.05, 0.0, 0.05, -0.02, 0.03, 0.01, -0.03, 0.02),
               (40, 60, 45, 55, 50, 42, 58, 48), strict=True)
    schools = [school("Fir", 0.8, 50), *(school(*args) for args in near),
               school("Box", 0, 3, suppressed=True)]

    chart = charts.school_funnel(schools)

    assert [row[0] for row in chart.table.rows] == ["Ash", "Bay", "Elm", "Fir", "Lime", "Oak",
                                                    "Pine", "Rowan", "Yew"]
    assert dict((row[0], row[-1]) for row in chart.table.rows)["Fir"] == "beyond 99.8%"
    assert not any("rank" in column.lower() for column in chart.table.columns)
    assert "1 outside the 95% limits and 1 outside the 99.8% limits." in chart.description
    assert chart.description.endswith(
        " 1 suppressed school (too few raters or samples) is not shown.")


def test_local_gap_lists_schools_by_name(report):
    chart = charts.local_gap(report["schools"])

    names = [row[0] for row in chart.table.rows]
    assert names == sorted(names)
    shown = {entry["school"]: entry for entry in report["schools"]}
    assert all(row[1] == shown[row[0]]["local_gap"] for row in chart.table.rows)


def test_equity_chart_says_the_district_sentence_and_draws_the_fitted_band(report, low_income):
    chart = charts.equity_plot(report, low_income)

    entry = report["equity"][0]
    assert chart.description == wording.equity_sentence(entry)
    used = [s for s in report["schools"] if s["standard_points_se"]]
    line = charts.equity_line(entry, used, low_income, steps=4)
    # The Knapp-Hartung band is weighted least squares at the REML tau^2 with its own scale.
    x = np.array([low_income[s["school"]] for s in used]) / 10
    y = np.array([s["standard_points"] for s in used])
    weights = 1 / (np.array([s["standard_points_se"] for s in used]) ** 2 + entry["tau2"])
    fit = sm.WLS(y, sm.add_constant(x), weights=weights).fit()
    grid = sm.add_constant(np.array([point["x"] for point in line]) / 10)
    band = fit.get_prediction(grid).conf_int(alpha=0.05)
    assert [point["low"] for point in line] == pytest.approx(band[:, 0], abs=1e-6)
    assert [point["high"] for point in line] == pytest.approx(band[:, 1], abs=1e-6)


def test_equity_chart_needs_the_analysis_it_draws(report, low_income):
    with pytest.raises(ValueError, match="no equity analysis of standard_points on pupils"):
        charts.equity_plot(report, low_income, column="pupils")


def test_drift_chart_shows_the_change_from_the_onset(report):
    rater = next(rater for rater in report["raters"] if rater["drift"]["flagged"])
    drift = rater["drift"]

    chart = charts.rater_drift(rater, "Rater 7", period_start="2025-09-01",
                               period_end="2025-11-30")

    assert chart.table.rows[1][1:4] == (drift["onset"], "2025-11-30", drift["shift_points"])
    assert chart.description.startswith("Rater 7 changed around ")
    assert f"over {drift['n_timed']} timed ratings." in chart.description
    untested = rater | {"drift": drift | {"onset": None, "shift_points": None,
                                          "message": "too few timed ratings"}}
    with pytest.raises(ValueError, match="Rater 7 has no drift estimate: too few timed"):
        charts.rater_drift(untested, "Rater 7", period_start="2025-09-01",
                           period_end="2025-11-30")


def test_agreement_matrix_table_is_the_matrix(report):
    criterion = report["criteria"][0]

    chart = charts.agreement_matrix(criterion)

    assert chart.table.columns[0] == "Score given"
    assert [list(row[1:]) for row in chart.table.rows] == criterion["confusion"]["counts"]
    assert str(criterion["confusion"]["counts"][0][1]) in texts(chart.svg)
    assert chart.description.startswith(f"{criterion['criterion']}: "
                                        f"{criterion['confusion']['n']} blind scores")


def test_reliability_chart_draws_alpha_and_icc_against_the_thresholds(report):
    chart = charts.reliability(report["criteria"], thresholds=(0.6, 0.75))

    first = report["criteria"][0]
    assert chart.table.rows[0] == (first["criterion"], "Alpha", first["alpha"],
                                   *first["alpha_ci95"])
    assert chart.table.rows[1][1:3] == ("ICC2", first["icc"]["ICC2"])
    assert {"tentative", "relied on"} <= set(texts(chart.svg))
    assert "between 0.600 and 0.750" in chart.description
