"""The few distribution functions the engine needs, on scipy.special.

Importing scipy.stats costs about half a second of every command (it builds a hundred
distribution objects), more than most steps of a district's analysis. Each function here is the
special function that scipy.stats' own distribution calls for it (norm, t, chi2 and f in
scipy/stats/_continuous_distns.py), so the values are the same to the last bit; inputs become
float arrays (a pandas Series loses its index) and a NaN or an invalid argument (df <= 0, a
probability outside [0, 1]) gives NaN, as there.
"""

from __future__ import annotations

import numpy as np
from scipy import special

_SQRT_2PI = np.sqrt(2 * np.pi)
_LOG_SQRT_2PI = np.log(_SQRT_2PI)


def normal_pdf(x):
    return np.exp(-np.asarray(x, dtype=float) ** 2 / 2.0) / _SQRT_2PI


def normal_logpdf(x):
    return -np.asarray(x, dtype=float) ** 2 / 2.0 - _LOG_SQRT_2PI


def normal_cdf(x):
    return special.ndtr(np.asarray(x, dtype=float))


def normal_sf(x):
    """P(Z > x)."""
    return special.ndtr(-np.asarray(x, dtype=float))


def normal_ppf(q):
    return special.ndtri(np.asarray(q, dtype=float))


def normal_isf(q):
    """The x with P(Z > x) = q."""
    return -special.ndtri(np.asarray(q, dtype=float))


def t_sf(x, df):
    """P(T > x) for Student's t with df degrees of freedom."""
    return special.stdtr(_positive(df), -np.asarray(x, dtype=float))


def t_isf(q, df):
    """The x with P(T > x) = q for Student's t with df degrees of freedom."""
    df, q = _positive(df), np.asarray(q, dtype=float)
    # stdtrit(df, 0) is +inf rather than the lower end of the support; scipy.stats puts the
    # bound itself there.
    return np.where((q == 0) & ~np.isnan(df), np.inf, -special.stdtrit(df, q))[()]


def chi2_sf(x, df):
    """P(X > x) for the chi-square distribution with df degrees of freedom."""
    return special.chdtrc(_positive(df), np.asarray(x, dtype=float))


def f_ppf(q, dfn, dfd):
    """The quantile q of the F distribution with (dfn, dfd) degrees of freedom."""
    return special.fdtri(_positive(dfn), _positive(dfd), np.asarray(q, dtype=float))


def _positive(df):
    """Degrees of freedom, NaN where not positive (scipy.stats' argument check)."""
    df = np.asarray(df, dtype=float)
    return np.where(df > 0, df, np.nan)
