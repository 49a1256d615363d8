"""Equity meta-regression: against statsmodels WLS at the same tau^2, a REML likelihood
maximised numerically, a planted slope, and the schools file's validation."""

import io

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy.optimize import minimize_scalar

from moderation.statistics.__main__ import main
from moderation.statistics.equity import (
    SchoolsFileError,
    equity,
    load_schools,
    meta_regression,
)


def restricted_deviance(tau2, y, v, design):
    weights = 1 / (v + tau2)
    information = design.T @ (weights[:, None] * design)
    beta = np.linalg.solve(information, design.T @ (weights * y))
    residual = y - design @ beta
    return (np.sum(np.log(v + tau2)) + np.linalg.slogdet(information)[1]
            + np.sum(weights * residual ** 2))


def test_matches_weighted_least_squares_and_the_reml_optimum():
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 10, 30)
    v = rng.uniform(0.01, 0.05, 30)
    y = 0.1 + 0.05 * x + rng.normal(0, np.sqrt(v + 0.02))

    result = meta_regression(y, v, x)
    design = sm.add_constant(x)
    peer = sm.WLS(y, design, weights=1 / (v + result.tau2)).fit()
    optimum = minimize_scalar(restricted_deviance, bounds=(0, 1), method="bounded",
                              args=(y, v, design), options={"xatol": 1e-10}).x

    assert result.tau2 == pytest.approx(optimum, abs=1e-6)
    assert result.slope == pytest.approx(peer.params[1], rel=1e-10)
    assert result.slope_se == pytest.approx(peer.bse[1], rel=1e-10)
    assert result.slope_ci95 == pytest.approx(tuple(peer.conf_int()[1]), rel=1e-10)
    assert result.p == pytest.approx(peer.pvalues[1], rel=1e-8)


def test_a_planted_slope_lies_within_its_interval():
    rng = np.random.default_rng(1)
    hits = 0
    for _ in range(200):
        x = rng.uniform(0, 10, 40)
        v = rng.uniform(0.005, 0.05, 40)
        y = -0.03 * x + rng.normal(0, np.sqrt(v + 0.01))
        low, high = meta_regression(y, v, x).slope_ci95
        hits += low <= -0.03 <= high
    assert 0.9 <= hits / 200 <= 0.99


def test_shares_are_read_as_fractions_or_percentages():
    fractions = load_schools(io.StringIO("school,low_income_share,grade_band,pupils\n"
                                         "A,0.2,primary,300\nB,0.65,secondary,900\n"))
    percents = load_schools(io.StringIO("school,low_income_share,grade_band\n"
                                        "A,20,primary\nB,65,secondary\n"))

    assert fractions["low_income_share"].tolist() == pytest.approx([20, 65])
    assert percents["low_income_share"].tolist() == pytest.approx([20, 65])
    assert fractions["pupils"].tolist() == [300, 900]


def test_the_low_income_share_is_related_first_whatever_the_column_order():
    rng = np.random.default_rng(2)
    names = [f"S{n}" for n in range(8)]
    schools = pd.DataFrame({"suppressed": False,
                            "standard_points": rng.normal(0, 0.2, 8),
                            "standard_points_se": 0.1, "local_gap": rng.normal(0, 0.2, 8),
                            "local_gap_se": 0.1}, index=names)
    context = pd.DataFrame({"english_learners_share": rng.uniform(5, 30, 8),
                            "low_income_share": rng.uniform(10, 80, 8)}, index=names)
    assert [entry["context"] for entry in equity(schools, context)] == \
        ["low_income_share"] * 2 + ["english_learners_share"] * 2


def test_a_context_without_spread_is_not_called_too_few_schools():
    names = [f"S{n}" for n in range(8)]
    schools = pd.DataFrame({"suppressed": False, "standard_points": np.linspace(-0.2, 0.2, 8),
                            "standard_points_se": 0.1, "local_gap": 0.0, "local_gap_se": 0.1},
                           index=names)
    context = pd.DataFrame({"low_income_share": 50.0}, index=names)
    entry = equity(schools, context)[0]
    assert entry["slope"] is None and entry["n_schools"] == 8
    assert entry["sentence"] == ("Every one of the 8 schools with leniency has the same "
                                 "low_income_share: there is no spread to relate it to.")


def test_a_bad_schools_file_names_its_line(tmp_path, capsys):
    with pytest.raises(SchoolsFileError, match="line 3: low_income_share 'lots'"):
        load_schools(io.StringIO("school,low_income_share,grade_band\nA,0.2,primary\n"
                                 "B,lots,primary\n"))
    ratings = tmp_path / "ratings.csv"
    ratings.write_text("rater,sample,criterion,score\nx,s,c,1\ny,s,c,2\n")
    schools = tmp_path / "schools.csv"
    schools.write_text("school,low_income_share,grade_band\nA,0.2,primary\nA,0.3,primary\n")

    assert main(["analyze", str(ratings), "--schools", str(schools)]) == 2
    assert "line 3: school 'A' appears twice" in capsys.readouterr().err
