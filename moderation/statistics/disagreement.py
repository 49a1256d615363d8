"""The samples whose blind scores disagree most: material for a moderation session.

A criterion whose reliability is low is moderated on the work its raters split over, so the
session discusses real differences of judgement rather than work everyone scores alike.
Disagreement on a sample is the range of its blind scores (max - min, in rubric points), then
their variance; ties go to the sample with more ratings, whose disagreement is better
established, then by name. A descriptive ranking, not a test.
"""

from __future__ import annotations

import pandas as pd

from moderation.statistics.table import latest_blind

MOST_DISAGREEMENT = 5   # samples named per criterion: enough for one session


def most_disagreement(ratings: pd.DataFrame, limit: int = MOST_DISAGREEMENT, *,
                      blind: pd.DataFrame | None = None
                      ) -> tuple[dict[str, list[dict]], list[dict]]:
    """Per criterion, and over all criteria together, the `limit` samples with at least two
    blind scores whose scores disagree most: lists of {sample, criterion, spread, variance
    (sample variance, ddof 1), n_ratings}, most disagreement first. Returns (by criterion,
    overall); a criterion without such samples is absent.

    Uses each rater's latest blind score of a unit (table.latest_blind; `blind` when the
    caller has it already)."""
    blind = latest_blind(ratings) if blind is None else blind
    units = blind.groupby(["criterion", "sample"], sort=False)["score"].agg(
        ["max", "min", "var", "size"]).reset_index()
    units = units.loc[units["size"] >= 2]
    units = pd.DataFrame({"sample": units["sample"], "criterion": units["criterion"],
                          "spread": units["max"] - units["min"], "variance": units["var"],
                          "n_ratings": units["size"]})
    # Rounded for the ranking only, so equal variances summed in another order still tie.
    units["tied"] = units["variance"].round(9)
    units = units.sort_values(["spread", "tied", "n_ratings", "sample", "criterion"],
                              ascending=[False, False, False, True, True],
                              kind="stable").drop(columns="tied")
    by_criterion = {name: part.head(limit).to_dict("records")
                    for name, part in units.groupby("criterion", sort=False)}
    return by_criterion, units.head(limit).to_dict("records")
