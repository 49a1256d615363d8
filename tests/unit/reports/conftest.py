"""A small synthetic district's report with school context, shared by the report tests."""

import pytest

from moderation.statistics.analysis import analyze
from seed_data.synthetic import DistrictParams, generate_district


@pytest.fixture(scope="session")
def district():
    params = DistrictParams(n_schools=10, raters_per_school=4, samples=400, criteria=2,
                            income_leniency=0.5)
    ratings, truth = generate_district(params, seed=3)
    context = truth.school_context.assign(
        low_income_share=truth.school_context["low_income_share"] * 100)
    return ratings, context


@pytest.fixture(scope="session")
def report(district):
    ratings, context = district
    return analyze(ratings, bootstrap=100, seed=5, schools=context)


@pytest.fixture(scope="session")
def low_income(district):
    return district[1]["low_income_share"].to_dict()
