"""The category probabilities of the many-facet Rasch model, the hot loops of the fit.

For a rating with eta = theta - delta - lambda, P(k) is proportional to exp(k eta - (tau_1 + ...
+ tau_k)). The thresholds tau are one set for every rating (the rating-scale model) or a table
with a row per criterion, each rating taking its criterion's row (the partial-credit model,
Masters 1982): every kernel takes `thresholds` and, for a table, `group`, each eta's row in it.
The fit (rasch.py) and everything computed from it (drift, bias, fair averages, residuals) call
these.
"""

from __future__ import annotations

import numpy as np

MIN_VARIANCE = 1e-10


# Rows per block of the category kernels: a block's few temporaries (8 bytes a row each) stay
# in the processor's cache, where a pass over the million rows of a district at once goes to
# main memory and allocates (and page-faults) a fresh 8 MB array per operation. The same
# operations on the same numbers, so the results are identical to the last bit.
BLOCK = 1 << 16


def _blocks(size: int) -> range:
    return range(0, size, BLOCK)


def category_moments(eta: np.ndarray, thresholds: np.ndarray,
                     group: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Expected category (0..m-1) and its variance for each eta, under the rating-scale model
    (thresholds: tau_1..tau_m-1) or the partial-credit one (thresholds: a table with a row of
    tau per criterion, and group: each eta's row in it).

    The hot loop of the fit: sum_k k^j a_k u^k for j = 0, 1, 2 by Horner's rule (see
    `_powers`), one exp per rating instead of one per rating and category, block by block.
    """
    eta = np.asarray(eta, dtype=float)
    expected, variance = np.empty(eta.shape), np.empty(eta.shape)
    flat_eta, flat_expected, flat_variance = eta.ravel(), expected.ravel(), variance.ravel()
    scratch = np.empty((3, min(BLOCK, eta.size)))
    for start in _blocks(eta.size):
        block = slice(start, start + BLOCK)
        _block_moments(flat_eta[block], _rows_of(thresholds, group, block),
                       flat_expected[block], flat_variance[block],
                       scratch[:, :flat_eta[block].size])
    return expected, variance


def _rows_of(thresholds: np.ndarray, group: np.ndarray | None, block: slice) -> tuple:
    """The thresholds of a block of ratings: (tau,) for the rating-scale model, (table,
    the block's rows in it) for the partial-credit one; `_powers` takes either."""
    return (thresholds,) if group is None else (thresholds, group[block])


def _block_moments(eta: np.ndarray, scale: tuple, expected: np.ndarray,
                   variance: np.ndarray, scratch: np.ndarray) -> None:
    """category_moments of one block, written into expected and variance."""
    u, weights = _powers(eta, scale, out=scratch[0])
    total, first, second = scratch[1], expected, variance
    top = len(weights) - 1
    total[:] = weights[top]
    first[:] = weights[top] * top
    second[:] = weights[top] * top * top
    for k in range(top - 1, -1, -1):
        total *= u
        total += weights[k]
        first *= u
        first += k * weights[k]
        second *= u
        second += k * k * weights[k]
    first /= total
    second /= total
    np.multiply(first, first, out=total)
    second -= total
    np.maximum(second, MIN_VARIANCE, out=second)


def category_probabilities(eta: np.ndarray, thresholds: np.ndarray,
                           group: np.ndarray | None = None) -> np.ndarray:
    """P(category k) as an (m, len(eta)) array: P(k) is proportional to exp(k eta - sum tau).
    thresholds and group as for `category_moments`."""
    eta = np.asarray(eta, dtype=float)
    terms = np.empty((thresholds.shape[-1] + 1, eta.size))
    scratch = np.empty((2, min(BLOCK, eta.size)))
    for start in _blocks(eta.size):
        block = slice(start, start + BLOCK)
        _block_probabilities(eta[block], _rows_of(thresholds, group, block), terms[:, block],
                             scratch[:, :eta[block].size])
    return terms


def _block_probabilities(eta: np.ndarray, scale: tuple, terms: np.ndarray,
                         scratch: np.ndarray) -> None:
    """category_probabilities of one block, written into terms (m rows)."""
    u, weights = _powers(eta, scale, out=scratch[0])
    power = scratch[1]
    power.fill(1.0)
    for k, weight in enumerate(weights):
        if k:
            power *= u
        np.multiply(power, weight, out=terms[k])
    terms /= terms.sum(axis=0, out=power)


def step_moments(eta: np.ndarray, thresholds: np.ndarray,
                 group: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """For each step k = 1..m-1, the expected number of ratings in category k or above,
    sum P(x >= k), and its information sum P(x >= k) (1 - P(x >= k)), over all eta.
    With a partial-credit table and group (see `category_moments`), the sums are per row of
    the table: (criteria, m-1) arrays.

    The threshold step of the fit; block by block, without the (m, len(eta)) probabilities.
    """
    top = thresholds.shape[-1]
    expected, information = np.zeros(thresholds.shape), np.zeros(thresholds.shape)
    terms = np.empty((top + 1, min(BLOCK, eta.size)))
    scratch = np.empty((2, terms.shape[1]))
    for start in _blocks(eta.size):
        rows = slice(start, start + BLOCK)
        block = eta[rows]
        probability, at_least, spread = terms[:, :block.size], *scratch[:, :block.size]
        _block_probabilities(block, _rows_of(thresholds, group, rows), probability,
                             scratch[:, :block.size])
        at_least[:] = probability[top]
        for k in range(top, 0, -1):      # P(x >= k), from the top category down
            if k < top:
                at_least += probability[k]
            np.subtract(1.0, at_least, out=spread)
            spread *= at_least
            if group is None:
                expected[k - 1] += at_least.sum()
                information[k - 1] += spread.sum()
            else:
                where, n = group[rows], thresholds.shape[0]
                expected[:, k - 1] += np.bincount(where, weights=at_least, minlength=n)
                information[:, k - 1] += np.bincount(where, weights=spread, minlength=n)
    return expected, information


def category_fourth_moment(eta: np.ndarray, thresholds: np.ndarray, expected: np.ndarray,
                           group: np.ndarray | None = None) -> np.ndarray:
    """The fourth central moment sum_k (k - E)^4 P(k) of the category for each eta: the
    kurtosis term of the model variance of a mean-square (Wright & Masters 1982, p. 100)."""
    probability = category_probabilities(eta, thresholds, group)
    fourth = np.zeros(eta.shape)
    for k, share in enumerate(probability):
        deviation = k - expected
        deviation *= deviation
        deviation *= deviation
        deviation *= share
        fourth += deviation
    return fourth


def _powers(eta: np.ndarray, scale: tuple,
            out: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """u = exp(eta) and a_k = exp(-(tau_1 + ... + tau_k)), so that P(k) is proportional to
    a_k u^k. The a_k are scaled to at most 1 and eta is clipped so that u^(m-1) stays below
    e^600: sums of the terms neither overflow nor underflow. At the clip every probability is
    already 0 or 1 to double precision unless thresholds are hundreds of logits apart.

    scale: see `_rows_of`. a_k is one number per category for the rating-scale model; for
    the partial-credit one an (m, len(eta)) array, each rating's criterion's a_k (taken from
    the table's m weights per criterion, so the exps stay one per criterion and category)."""
    thresholds = scale[0]
    limit = 600.0 / max(thresholds.shape[-1], 1)
    u = np.clip(eta, -limit, limit, out=out)
    if len(scale) == 1:
        offsets = np.concatenate([[0.0], np.cumsum(thresholds)])
        return np.exp(u, out=u), np.exp(offsets.min() - offsets)
    offsets = np.concatenate([np.zeros((thresholds.shape[0], 1)),
                              np.cumsum(thresholds, axis=1)], axis=1)
    weights = np.exp(offsets.min(axis=1, keepdims=True) - offsets)
    # (m, block) with each category's weights contiguous, as the Horner loop reads them.
    return np.exp(u, out=u), np.take(weights.T, scale[1], axis=1)
