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
from scipy.sparse import coo_matrix, csr_matrix
from scipy.sparse.csgraph import connected_components
from scipy.sparse.linalg import LinearOperator, eigsh

from moderation.statistics.table import BlindCodes

DENSE_RATERS = 400    # up to this many raters the eigenvalue comes from a dense matrix
# Below this algebraic connectivity some comparison between groups of raters is more than
# 1/sqrt(0.25) = 2 times less precise than the raters' own standard errors say, so its
# nominal 95% interval would cover only about two times in three (P(|Z| < 1.96 / 2)). A
# project default: rings of ten or more raters fall below it, the generator's random
# designs (0.66 without anchors, 0.83 with them) lie far above.
MIN_LINKAGE = 0.25
LINKAGE_METHOD = ("algebraic connectivity (second-smallest eigenvalue) of the normalised "
                  "Laplacian of the raters' shared ratings, samples profiled out")
WEAK_LINKAGE = ("The raters are linked only weakly (linkage {linkage:.2g}, below {cutoff:g}): "
                "most raters share samples with a few others only, so comparing raters or "
                "schools far apart in the design rests on long chains of shared samples and is "
                "up to {factor:.1f} times less precise than each rater's standard error says. "
                "Severities and school standards then lean on the assumption that every rater "
                "got samples of typical quality. Have raters score samples across the whole "
                "design, or a common set of anchor papers.")


@dataclass(frozen=True)
class DesignSummary:
    """connected / n_components: of the bipartite rater-sample graph of blind ratings (0
    components and not connected without ratings). cross_school_share: share of blind ratings
    whose rater's school differs from the sample's, among those where both are known (None when
    none are). anchors_per_rater: mean number of distinct anchor samples (with a reference
    score) each rater scored blind, over raters with blind ratings (None without raters).
    linkage_strength: how strongly the main connected part links its raters
    (`algebraic_connectivity`, named in linkage_method; None with fewer than two raters
    sharing samples); linkage_message: None, or why the design is too weak to compare raters
    or schools (below `min_linkage`)."""

    connected: bool
    n_components: int
    cross_school_share: float | None
    anchors_per_rater: float | None
    linkage_strength: float | None = None
    linkage_method: str = LINKAGE_METHOD
    linkage_message: str | None = None


def summarize_design(ratings: pd.DataFrame, codes: BlindCodes, *,
                     min_linkage: float = MIN_LINKAGE) -> DesignSummary:
    """Connectivity, linkage, cross-school share and anchor coverage of the latest blind
    ratings.

    ratings: the validated table; codes: encode_blind(ratings). Connected components by
    scipy.sparse.csgraph (linear in the number of ratings).

    Linkage: connected is yes or no; how well is a measure of precision. Each sample's
    ratings compare its raters with each other; with the sample measure profiled out, the
    information the design holds on rater severities is the weighted Laplacian
    L = diag(w_j) - B' diag(1/W_n) B, with B[n, j] the ratings of rater j on sample n (each
    rating taken as one unit of information: a design figure, before any fit) and W_n the
    sample's total: the information (C-) matrix of a block design, raters the treatments
    and samples the blocks (John & Williams 1995, ch. 1; Eckes 2015 on linking raters). Its
    diagonal is what a rater's own ratings say when every other rater is known, which is
    what the Rasch standard errors report. The
    algebraic connectivity lambda_2 of D^-1/2 L D^-1/2 (D = diag(L); Fiedler 1973, Chung
    1997) bounds how far that understates the error of a comparison between groups of raters:
    by at most a factor 1/sqrt(lambda_2). Random designs with three raters per sample give
    about 0.8; a ring of R raters (each sharing samples with two neighbours) gives
    1 - cos(2 pi / R), 0.05 at 20 raters. Computed on the main connected part, by a dense
    eigensolver up to DENSE_RATERS raters and Lanczos (scipy eigsh) beyond.
    """
    n_components = _count_components(codes)
    linkage = _main_linkage(codes) if n_components else None
    weak = linkage is not None and linkage < min_linkage
    return DesignSummary(connected=n_components == 1, n_components=n_components,
                         cross_school_share=_cross_school_share(ratings, codes),
                         anchors_per_rater=_anchors_per_rater(ratings, codes),
                         linkage_strength=linkage,
                         linkage_message=WEAK_LINKAGE.format(
                             linkage=linkage, cutoff=min_linkage,
                             factor=1 / np.sqrt(max(linkage, 1e-12))) if weak else None)


def _main_linkage(codes: BlindCodes) -> float | None:
    labels = rater_sample_components(codes.rater, codes.sample, len(codes.rater_ids),
                                     len(codes.sample_ids))
    main = labels == np.argmax(np.bincount(labels[codes.rater]))
    keep = main[codes.rater]
    return algebraic_connectivity(codes.rater[keep], codes.sample[keep])


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
    # Compared as the table keeps them (Arrow text): no Python string per rating.
    rater_school, sample_school = ratings["rater_school"], ratings["sample_school"]
    known = (rater_school.notna() & sample_school.notna()).to_numpy()[codes.rows]
    if not known.any():
        return None
    differs = (rater_school != sample_school).to_numpy()[codes.rows]
    return float(np.mean(differs[known]))


def _anchors_per_rater(ratings: pd.DataFrame, codes: BlindCodes) -> float | None:
    n_raters = len(codes.rater_ids)
    if n_raters == 0:
        return None
    anchor_samples = ratings.loc[ratings["kind"] == "reference", "sample"].unique()
    is_anchor = codes.sample_ids.isin(anchor_samples)[codes.sample]
    pairs = np.unique(codes.rater[is_anchor].astype(np.int64) * len(codes.sample_ids)
                      + codes.sample[is_anchor])
    return float(np.bincount(pairs // len(codes.sample_ids), minlength=n_raters).mean())


def algebraic_connectivity(rater: np.ndarray, sample: np.ndarray) -> float | None:
    """Second-smallest eigenvalue of the normalised rater Laplacian of the design.

    Integer codes in, one entry per rating, all raters in one connected part; None with
    fewer than two raters or a rater who shares no sample. See `summarize_design` for what
    the figure means.
    """
    rater, sample = pd.factorize(rater)[0], pd.factorize(sample)[0]
    n_raters, n_samples = int(rater.max(initial=-1)) + 1, int(sample.max(initial=-1)) + 1
    # pandas' hash factorize: np.unique's sort took half the time at district scale.
    pair_index, pairs = pd.factorize(rater.astype(np.int64) * n_samples + sample)
    weight = np.bincount(pair_index).astype(float)
    pair_rater, pair_sample = pairs // n_samples, pairs % n_samples
    incidence = csr_matrix((weight, (pair_sample, pair_rater)), shape=(n_samples, n_raters))
    sample_total = np.bincount(pair_sample, weights=weight, minlength=n_samples)
    rater_total = np.bincount(pair_rater, weights=weight, minlength=n_raters)
    # Profiling the samples out leaves each rater sum_n w_nj (1 - w_nj / W_n): what the
    # rater's own ratings say about the severity when every other rater is known.
    own = rater_total - np.bincount(pair_rater, weights=weight ** 2 / sample_total[pair_sample],
                                    minlength=n_raters)
    if n_raters < 2 or (own <= 0).any():
        return None
    scale = 1.0 / np.sqrt(own)
    null = np.sqrt(own) / np.linalg.norm(np.sqrt(own))

    def shifted(x: np.ndarray) -> np.ndarray:
        # (2 I - L_norm) on the complement of L_norm's null vector: its largest eigenvalue is
        # 2 - lambda_2 (the normalised Laplacian's spectrum lies in [0, 2]).
        x = x - null * (null @ x)
        y = scale * x
        laplacian = rater_total * y - incidence.T @ ((incidence @ y) / sample_total)
        out = 2.0 * x - scale * laplacian
        return out - null * (null @ out)

    if n_raters <= DENSE_RATERS:
        matrix = np.column_stack([shifted(column) for column in np.eye(n_raters)])
        top = np.linalg.eigvalsh((matrix + matrix.T) / 2)[-1]
    else:
        operator = LinearOperator((n_raters, n_raters), matvec=shifted, dtype=float)
        top = eigsh(operator, k=1, which="LA", tol=1e-6, return_eigenvectors=False)[0]
    return float(2.0 - top)
