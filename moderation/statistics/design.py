"""The design of a moderation cycle: can raters, samples and schools be compared at all?

Severities are comparable only within a connected part of the rater-sample graph (Eckes,
*Introduction to Many-Facet Rasch Measurement*, 2015, on disconnected subsets), and school
standards need cross-school blind scoring and common anchors (>= 10% of samples scored across
schools, >= 5 anchors per rater; docs/methods.md, "School standards" and "The design").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from moderation.statistics.table import BlindCodes


@dataclass(frozen=True)
class DesignSummary:
    """connected / n_components: of the bipartite rater-sample graph of blind ratings (0
    components and not connected without ratings). cross_school_share: share of blind ratings
    whose rater's school differs from the sample's, among those where both are known (None when
    none are). anchors_per_rater: mean number of distinct anchor samples (with a reference
    score) each rater scored blind, over raters with blind ratings (None without raters)."""

    connected: bool
    n_components: int
    cross_school_share: float | None
    anchors_per_rater: float | None


def summarize_design(ratings: pd.DataFrame, codes: BlindCodes) -> DesignSummary:
    """Connectivity, cross-school share and anchor coverage of the latest blind ratings.

    ratings: the validated table; codes: encode_blind(ratings). Connected components by
    scipy.sparse.csgraph (linear in the number of ratings).
    """
    n_components = _count_components(codes)
    return DesignSummary(connected=n_components == 1, n_components=n_components,
                         cross_school_share=_cross_school_share(ratings, codes),
                         anchors_per_rater=_anchors_per_rater(ratings, codes))


def rater_sample_components(rater: np.ndarray, sample: np.ndarray, n_raters: int,
                            n_samples: int) -> np.ndarray:
    """Component label of each rater in the bipartite rater-sample graph (code arrays in)."""
    edges = coo_matrix((np.ones(rater.size), (rater, n_raters + sample)),
                       shape=(n_raters + n_samples,) * 2)
    _, labels = connected_components(edges, directed=False)
    return labels[:n_raters]


def _count_components(codes: BlindCodes) -> int:
    # Every sample here has a rating, so counting the raters' components counts them all.
    if codes.rater.size == 0:
        return 0
    labels = rater_sample_components(codes.rater, codes.sample, len(codes.rater_ids),
                                     len(codes.sample_ids))
    return int(np.unique(labels).size)


def _cross_school_share(ratings: pd.DataFrame, codes: BlindCodes) -> float | None:
    rater_school = ratings["rater_school"].to_numpy()[codes.rows]
    sample_school = ratings["sample_school"].to_numpy()[codes.rows]
    known = pd.notna(rater_school) & pd.notna(sample_school)
    if not known.any():
        return None
    return float(np.mean(rater_school[known] != sample_school[known]))


def _anchors_per_rater(ratings: pd.DataFrame, codes: BlindCodes) -> float | None:
    n_raters = len(codes.rater_ids)
    if n_raters == 0:
        return None
    anchor_samples = ratings.loc[ratings["kind"] == "reference", "sample"].unique()
    is_anchor = codes.sample_ids.isin(anchor_samples)[codes.sample]
    pairs = np.unique(codes.rater[is_anchor].astype(np.int64) * len(codes.sample_ids)
                      + codes.sample[is_anchor])
    return float(np.bincount(pairs // len(codes.sample_ids), minlength=n_raters).mean())
