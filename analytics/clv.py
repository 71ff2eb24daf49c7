"""Customer lifetime value: BG/NBD purchase model and Gamma-Gamma spend model.

Pure numpy/scipy, no Django imports. References:

- Fader, Hardie and Lee (2005), "Counting your customers the easy way: an alternative to
  the Pareto/NBD model", Marketing Science 24(2). Equations (6) likelihood, (10)
  conditional expectation, and P(alive) from their technical note.
- Fader and Hardie (2013), "The Gamma-Gamma model of monetary value".

TIME UNIT: WEEKS. Every time (t_x, T, t) is in weeks and alpha is therefore in weeks; the
published CDNOW estimates r=0.243, alpha=4.414, a=0.793, b=2.426 are in weeks too.

Inputs per customer, from DISTINCT purchase days as of a date (see :func:`model_inputs`):

- ``x``: repeat purchase days (purchase days - 1),
- ``t_x``: weeks from the first purchase day to the last,
- ``T``: weeks from the first purchase day to the as-of date,
- ``m_x``: average value of the repeat purchase days (the first excluded); the spend
  model only uses customers with ``x > 0`` and ``m_x > 0``.

Every likelihood is computed in log space (gammaln, betaln, logaddexp), so nothing
overflows for customers with many purchases; special functions of x alone are evaluated
once per distinct x.

Past one machine: :func:`fit_sample` fits both models once, on a random sample; every
scoring function is row-wise, so chunks scored on different workers give what one pass would.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import optimize, special

WEEKS_PER_MONTH = 52 / 12
# Fits keep every parameter within these bounds (log-space optimisation), so a degenerate
# data set (say nobody bought twice) still gives finite parameters and predictions.
PARAM_MIN, PARAM_MAX = 1e-6, 1e6
# q <= 1 means an infinite mean spend; the fit keeps q just above 1.
Q_MIN = 1.0 + 1e-6


class InsufficientDataError(ValueError):
    """There is nothing to fit the model on."""


@dataclass(frozen=True)
class BGNBDParams:
    """BG/NBD: purchase rate lambda ~ Gamma(r, rate alpha) [alpha in weeks], dropout p ~ Beta(a, b)."""

    r: float
    alpha: float
    a: float
    b: float


@dataclass(frozen=True)
class GammaGammaParams:
    """Gamma-Gamma: spend per purchase ~ Gamma(p, nu), nu ~ Gamma(q, rate gamma)."""

    p: float
    q: float
    gamma: float

    @property
    def population_mean(self) -> float:
        """Mean spend per purchase across customers: p * gamma / (q - 1)."""
        return self.p * self.gamma / (self.q - 1)


def model_inputs(purchase_days, days_first_to_last, days_first_to_as_of, repeat_revenue):
    """(x, t_x, T, m_x) in weeks from day counts; m_x is 0 where x == 0."""
    purchase_days = np.asarray(purchase_days, dtype=np.float64)
    x = purchase_days - 1
    t_x = np.asarray(days_first_to_last, dtype=np.float64) / 7
    T = np.asarray(days_first_to_as_of, dtype=np.float64) / 7
    repeat_revenue = np.asarray(repeat_revenue, dtype=np.float64)
    m_x = np.divide(repeat_revenue, x, out=np.zeros_like(x), where=x > 0)
    return x, t_x, T, m_x


def _arrays(*columns):
    arrays = np.broadcast_arrays(*(np.asarray(c, dtype=np.float64) for c in columns))
    return [np.ascontiguousarray(a) for a in arrays]


def _check_bgnbd_inputs(x, t_x, T):
    if not (np.isfinite(x).all() and np.isfinite(t_x).all() and np.isfinite(T).all()):
        raise ValueError("x, t_x and T must be finite")
    if (x < 0).any() or (t_x < 0).any() or (t_x > T + 1e-9).any():
        raise ValueError("need x >= 0 and 0 <= t_x <= T")
    if ((x > 0) & (t_x <= 0)).any():
        raise ValueError("a customer with repeat purchases needs t_x > 0")


# --- BG/NBD -----------------------------------------------------------------------------


def _by_x(x):
    """Distinct x values and each row's index into them: every special function that
    depends on x alone is evaluated once per distinct x (a few hundred values at most)."""
    distinct, rows = np.unique(x, return_inverse=True)
    return distinct, rows.reshape(-1)


def _bgnbd_terms(params: BGNBDParams, x, t_x, T, by_x):
    """log L = A + logaddexp(t1, t2): the two terms of FHL (2005) eq. 6, in log space; and
    log(alpha + T), log(alpha + t_x), which the gradient needs too."""
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    ux, rows = by_x
    ux1 = np.maximum(ux, 1.0)  # keeps betaln's arguments valid where x == 0
    log_ab = special.betaln(a, b)
    A = (special.gammaln(r + ux) - special.gammaln(r) + r * np.log(alpha))[rows]
    log_a_T, log_a_tx = np.log(alpha + T), np.log(alpha + t_x)
    r_x = r + x
    t1 = (special.betaln(a, b + ux) - log_ab)[rows] - r_x * log_a_T
    second = np.where(ux > 0, special.betaln(a + 1, b + ux1 - 1) - log_ab, -np.inf)
    with np.errstate(invalid="ignore"):  # -inf - finite where x == 0 is -inf, as meant
        t2 = second[rows] - r_x * log_a_tx
    return A, t1, t2, log_a_T, log_a_tx


def bgnbd_log_likelihood(params: BGNBDParams, x, t_x, T) -> np.ndarray:
    """Per-customer log-likelihood of the BG/NBD model (FHL 2005, eq. 6). Times in weeks."""
    x, t_x, T = _arrays(x, t_x, T)
    A, t1, t2, _log_a_T, _log_a_tx = _bgnbd_terms(params, x, t_x, T, _by_x(x))
    return A + np.logaddexp(t1, t2)


def _bgnbd_gradient(params: BGNBDParams, x, t_x, T, weights, by_x):
    """Weighted sum of log L and its gradient with respect to (r, alpha, a, b).

    With w2 the second term's share of L (0 where x == 0) and w1 = 1 - w2, the derivative
    of log L is dA + w1 dt1 + w2 dt2, the digamma terms coming from the Beta functions.
    """
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    ux, rows = by_x
    A, t1, t2, log_a_T, log_a_tx = _bgnbd_terms(params, x, t_x, T, by_x)
    mix = np.logaddexp(t1, t2)
    w2 = np.exp(t2 - mix)
    w1 = 1.0 - w2
    psi = special.digamma
    d_r = (psi(r + ux) - psi(r))[rows] + np.log(alpha) - w1 * log_a_T - w2 * log_a_tx
    d_alpha = r / alpha - (r + x) * (w1 / (alpha + T) + w2 / (alpha + t_x))
    shared = (psi(a + b) - psi(a + b + ux))[rows]
    d_a = shared + w2 / a  # psi(a + 1) - psi(a) = 1 / a
    d_b = shared - psi(b) + w1 * psi(b + ux)[rows] + w2 * psi(b + np.maximum(ux, 1) - 1)[rows]
    # Multiply and sum rather than np.dot: BLAS threads crawl on a busy 2-core machine.
    grad = np.array([(weights * d).sum() for d in (d_r, d_alpha, d_a, d_b)])
    return float((weights * (A + mix)).sum()), grad


def bgnbd_gradient(params: BGNBDParams, x, t_x, T) -> np.ndarray:
    """Gradient of the summed log-likelihood with respect to (r, alpha, a, b)."""
    x, t_x, T = _arrays(x, t_x, T)
    return _bgnbd_gradient(params, x, t_x, T, np.ones_like(x), _by_x(x))[1]


def _collapse(columns, weights):
    """Identical rows merged into one with the summed weight (sorting, no hashing)."""
    distinct, rows = _distinct_rows(*columns)
    return distinct, np.bincount(rows, weights=weights, minlength=len(distinct[0]))


def _minimise(objective, initial, bounds):
    result = optimize.minimize(
        objective,
        np.log(initial),
        jac=True,
        method="L-BFGS-B",
        bounds=[(np.log(lo), np.log(hi)) for lo, hi in bounds],
        options={"maxiter": 1000},
    )
    if not (np.isfinite(result.x).all() and np.isfinite(result.fun)):
        raise RuntimeError(f"the fit did not converge: {result.message}")
    return np.exp(result.x)


def fit_bgnbd(x, t_x, T, *, weights=None, initial=None) -> BGNBDParams:
    """Maximum-likelihood BG/NBD fit (L-BFGS-B on log-parameters, analytic gradient).

    Identical (x, t_x, T) rows are collapsed first and weighted by their count, so a million
    customers with day-resolution times cost a fraction of that. Times in weeks.
    """
    x, t_x, T = _arrays(x, t_x, T)
    if not len(x):
        raise InsufficientDataError("no customers to fit the purchase model on")
    _check_bgnbd_inputs(x, t_x, T)
    weights = np.ones_like(x) if weights is None else np.asarray(weights, dtype=np.float64)
    if weights.shape != x.shape or not (np.isfinite(weights).all() and (weights >= 0).all()):
        raise ValueError("weights must be one finite, non-negative number per customer")
    (x, t_x, T), weights = _collapse((x, t_x, T), weights)
    total = weights.sum()
    if initial is None:
        # r = 1 and alpha matching the mean repeat rate; a, b near typical retail values.
        rate = max(float((weights * x).sum() / max((weights * T).sum(), 1e-9)), 1e-3)
        initial = BGNBDParams(1.0, min(max(1.0 / rate, 1e-3), 1e5), 0.8, 2.5)

    by_x = _by_x(x)

    def objective(log_params):
        params = BGNBDParams(*np.exp(log_params))
        value, grad = _bgnbd_gradient(params, x, t_x, T, weights, by_x)
        return -value / total, -grad * np.exp(log_params) / total

    start = np.array([initial.r, initial.alpha, initial.a, initial.b])
    return BGNBDParams(
        *(float(v) for v in _minimise(objective, start, [(PARAM_MIN, PARAM_MAX)] * 4))
    )


def _log_odds_dead(params: BGNBDParams, x, t_x, T):
    """log[ a / (b + x - 1) * ((alpha + T) / (alpha + t_x))^(r + x) ] for x > 0."""
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    x1 = np.where(x > 0, x, 1.0)
    return np.log(a) - np.log(b + x1 - 1) + (r + x) * (np.log(alpha + T) - np.log(alpha + t_x))


def probability_alive(params: BGNBDParams, x, t_x, T) -> np.ndarray:
    """P(still alive at T | x, t_x, T); 1 for customers without repeat purchases."""
    x, t_x, T = _arrays(x, t_x, T)
    return _alive(params, x, t_x, T)


def expected_purchases(params: BGNBDParams, t, x, t_x, T) -> np.ndarray:
    """E[purchases in (T, T + t] | x, t_x, T] (FHL 2005, eq. 10); t in weeks.

    Eq. 10 is P(alive) times the expectation given alive, which depends on (x, T) only:
    that part is computed once per distinct (x, T), far fewer than customers."""
    x, t_x, T = _arrays(x, t_x, T)
    if np.ndim(t) == 0:
        (ux, uT), rows = _distinct_rows(x, T)
        given_alive = _expected_given_alive(params, float(t), ux, uT)[rows]
    else:
        x, t_x, T, t = _arrays(x, t_x, T, t)
        given_alive = _expected_given_alive(params, t, x, T)
    return given_alive * _alive(params, x, t_x, T)


def _distinct_rows(*columns):
    """The distinct rows of the columns and, per input row, its index among them."""
    if not len(columns[0]):
        return columns, np.zeros(0, dtype=np.int64)
    order = np.lexsort(columns[::-1])
    new_row = np.zeros(len(order), dtype=bool)
    new_row[0] = True
    for column in columns:
        ordered = column[order]
        new_row[1:] |= ordered[1:] != ordered[:-1]
    rows = np.empty(len(order), dtype=np.int64)
    rows[order] = np.cumsum(new_row) - 1
    first = order[new_row]
    return tuple(column[first] for column in columns), rows


def _alive(params: BGNBDParams, x, t_x, T):
    return np.where(x > 0, special.expit(-_log_odds_dead(params, x, t_x, T)), 1.0)


def _expected_given_alive(params: BGNBDParams, t, x, T):
    """Eq. 10 without its P(alive) factor: purchases in the next t weeks if still alive.

    The factor ((alpha+T)/(alpha+T+t))^(r+x) * 2F1(r+x, b+x; a+b+x-1; z) is rewritten with
    Euler's transformation as (1-z)^(a-1) * 2F1(a+b-1-r, a-1; a+b+x-1; z), which neither
    overflows nor loses precision when x is large. Where scipy's 2F1 still fails (only at
    degenerate parameters, say a fit at its bounds on a handful of customers) the result
    falls back to :func:`_plug_in_expected_purchases`.
    """
    r, alpha, b = params.r, params.alpha, params.b
    a = params.a if abs(params.a - 1) > 1e-8 else 1 + 1e-8  # eq. 10 divides by a - 1
    c = a + b + x - 1
    z = t / (alpha + T + t)
    with np.errstate(all="ignore"):  # failures are caught below, not warned about
        hyp = special.hyp2f1(a + b - 1 - r, a - 1, c, z)
        power = (a - 1) * np.log1p(-z)
        # 1 - (1-z)^(a-1) * hyp, as -expm1(log) so it stays exact when it is small.
        bracket = np.where(
            hyp > 0,
            -np.expm1(power + np.log(np.where(hyp > 0, hyp, 1.0))),
            1.0 - np.exp(power) * hyp,
        )
        given_alive = c / (a - 1) * bracket
    # Alive, a customer buys at most (r + x) / (alpha + T) a week on average.
    ceiling = (r + x) / (alpha + T) * t
    bad = ~np.isfinite(given_alive) | (given_alive < 0) | (given_alive > ceiling * (1 + 1e-9))
    if bad.any():
        t = np.broadcast_to(t, x.shape)
        given_alive[bad] = _plug_in_expected_purchases(params, t[bad], x[bad], T[bad])
    return given_alive


def _plug_in_expected_purchases(params: BGNBDParams, t, x, T):
    """E[purchases | alive] with the dropout p fixed at its posterior mean a / (a + b + x).

    Alive at T, lambda ~ Gamma(r + x, alpha + T) and the expectation is
    E_p[(1 - (1 + p t / (alpha + T))^-(r + x)) / p]; plugging in the mean of p (instead of
    integrating over it, which is what 2F1 does) is always finite. A fallback only.
    """
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    p = a / (a + b + x)
    return -np.expm1(-(r + x) * np.log1p(p * t / (alpha + T))) / p


# --- Gamma-Gamma ------------------------------------------------------------------------


def _spend_rows(x, m_x):
    """Customers the spend model uses: repeat purchases and a positive average value."""
    x, m_x = _arrays(x, m_x)
    if not (np.isfinite(x).all() and np.isfinite(m_x).all()):
        raise ValueError("x and m_x must be finite")
    keep = (x > 0) & (m_x > 0)
    return x[keep], m_x[keep]


def _gg_terms(params: GammaGammaParams, x, m_x, by_x):
    """Per-customer log-likelihood; the Gamma functions of p x once per distinct x."""
    p, q, gamma = params.p, params.q, params.gamma
    ux, rows = by_x
    per_x = special.gammaln(p * ux + q) - special.gammaln(p * ux) + p * ux * np.log(ux)
    px = p * x
    return (
        per_x[rows]
        - special.gammaln(q)
        + q * np.log(gamma)
        + (px - 1) * np.log(m_x)
        - (px + q) * np.log(gamma + x * m_x)
    )


def gamma_gamma_log_likelihood(params: GammaGammaParams, x, m_x) -> np.ndarray:
    """Per-customer log-likelihood of m_x given x (Fader and Hardie 2013); x, m_x > 0."""
    x, m_x = _arrays(x, m_x)
    return _gg_terms(params, x, m_x, _by_x(x))


@dataclass(frozen=True)
class _Spenders:
    """The spend fit's inputs: repeat spend x m_x per customer, customers per distinct x,
    and the sums free of parameters (of log m_x and x log m_x)."""

    x: np.ndarray
    spend: np.ndarray
    ux: np.ndarray
    per_x: np.ndarray
    log_m: float
    x_log_m: float

    @classmethod
    def of(cls, x, m_x) -> _Spenders:
        ux, rows = _by_x(x)
        log_m = np.log(m_x)
        per_x = np.bincount(rows, minlength=len(ux)).astype(np.float64)
        return cls(x, x * m_x, ux, per_x, float(log_m.sum()), float((x * log_m).sum()))


def _gg_gradient(params: GammaGammaParams, data: _Spenders):
    """Summed log-likelihood and its gradient with respect to (p, q, gamma).

    The sum of :func:`_gg_terms` rearranged: per customer only log(gamma + x m_x) and its
    reciprocal depend on the parameters."""
    p, q, gamma = params.p, params.q, params.gamma
    psi, n, ux, per_x, x = special.digamma, len(data.x), data.ux, data.per_x, data.x
    log_total = np.log(gamma + data.spend)
    inverse = 1.0 / (gamma + data.spend)
    sum_log, sum_x_log = log_total.sum(), (x * log_total).sum()
    sum_inverse, sum_x_inverse = inverse.sum(), (x * inverse).sum()
    gamma_ratio = special.gammaln(p * ux + q) - special.gammaln(p * ux) + p * ux * np.log(ux)
    value = (
        (per_x * gamma_ratio).sum()
        + n * (q * np.log(gamma) - special.gammaln(q))
        + p * data.x_log_m
        - data.log_m
        - p * sum_x_log
        - q * sum_log
    )
    psi_pxq = psi(p * ux + q)
    d_p = (per_x * ux * (psi_pxq - psi(p * ux) + np.log(ux))).sum() + data.x_log_m - sum_x_log
    d_q = (per_x * psi_pxq).sum() + n * (np.log(gamma) - psi(q)) - sum_log
    d_gamma = n * q / gamma - p * sum_x_inverse - q * sum_inverse
    return float(value), np.array([d_p, d_q, d_gamma])


def gamma_gamma_gradient(params: GammaGammaParams, x, m_x) -> np.ndarray:
    """Gradient of the summed log-likelihood with respect to (p, q, gamma)."""
    x, m_x = _arrays(x, m_x)
    return _gg_gradient(params, _Spenders.of(x, m_x))[1]


def fit_gamma_gamma(x, m_x, *, initial=None) -> GammaGammaParams:
    """Maximum-likelihood Gamma-Gamma fit on the customers with x > 0 and m_x > 0.

    Customers without repeat purchases, or whose repeat days sum to zero or less (refunds),
    are left out, as in Fader and Hardie (2013). q is kept above 1 so the population mean
    spend p * gamma / (q - 1) exists.
    """
    x, m_x = _spend_rows(x, m_x)
    if not len(x):
        raise InsufficientDataError("no repeat purchases with a positive value to fit on")
    n = len(x)
    if initial is None:
        # With p = 1, q = 2 the population mean spend is gamma: start at the sample mean.
        initial = GammaGammaParams(1.0, 2.0, float(m_x.mean()))

    data = _Spenders.of(x, m_x)

    def objective(log_params):
        params = GammaGammaParams(*np.exp(log_params))
        value, grad = _gg_gradient(params, data)
        return -value / n, -grad * np.exp(log_params) / n

    start = np.array([initial.p, initial.q, initial.gamma])
    bounds = [(PARAM_MIN, PARAM_MAX), (Q_MIN, PARAM_MAX), (PARAM_MIN, 1e12)]
    return GammaGammaParams(*(float(v) for v in _minimise(objective, start, bounds)))


def expected_average_value(params: GammaGammaParams, x, m_x) -> np.ndarray:
    """E[spend per purchase | x, m_x] (Fader and Hardie 2013).

    A weighted mean of the population mean p*gamma/(q-1) and the customer's own m_x;
    customers with x = 0 (or an unusable m_x <= 0) get the population mean.
    """
    x, m_x = _arrays(x, m_x)
    p, q, gamma = params.p, params.q, params.gamma
    usable = (x > 0) & (m_x > 0)
    x = np.where(usable, x, 0.0)
    m_x = np.where(usable, m_x, 0.0)
    return (gamma + m_x * x) * p / (p * x + q - 1)


# --- Lifetime value ---------------------------------------------------------------------


def predicted_value(
    bg: BGNBDParams,
    gg: GammaGammaParams,
    x,
    t_x,
    T,
    m_x,
    *,
    months: int = 12,
    annual_discount_rate: float = 0.10,
) -> np.ndarray:
    """Discounted expected value of the next `months` months.

    Sum over month k of (E[X(k months)] - E[X(k-1 months)]) * expected average value /
    (1 + monthly rate)^k, with monthly rate (1 + annual)^(1/12) - 1 and a month of 52/12
    weeks. The expected purchases are non-decreasing in the horizon, so every term >= 0.
    """
    if months < 0 or annual_discount_rate <= -1:
        raise ValueError("months must be >= 0 and the discount rate > -100%")
    x, t_x, T, m_x = _arrays(x, t_x, T, m_x)
    monthly_rate = (1 + annual_discount_rate) ** (1 / 12) - 1
    (ux, uT), rows = _distinct_rows(x, T)
    total = np.zeros_like(ux)
    previous = np.zeros_like(ux)
    for k in range(1, months + 1):
        current = _expected_given_alive(bg, k * WEEKS_PER_MONTH, ux, uT)
        # np.maximum: a fallback (see expected_purchases) never makes an increment negative.
        current = np.maximum(current, previous)
        total += (current - previous) / (1 + monthly_rate) ** k
        previous = current
    return total[rows] * _alive(bg, x, t_x, T) * expected_average_value(gg, x, m_x)


def fit_sample(
    x, t_x, T, m_x, *, max_customers: int = 200_000, seed: int = 0, fallback_mean: float = 0.0
) -> tuple[BGNBDParams, GammaGammaParams]:
    """Fit both models, on a random sample of `max_customers` when there are more.

    The chunked path fits once here and scores every chunk with the returned parameters.
    When nobody has a usable repeat purchase the spend model cannot be fitted: it then
    predicts `fallback_mean` per purchase (p=1, q=2, gamma=fallback_mean; pass the average
    order value, for instance); the default 0 makes every predicted value 0.
    """
    x, t_x, T, m_x = _arrays(x, t_x, T, m_x)
    if len(x) > max_customers:
        rows = np.random.default_rng(seed).choice(len(x), size=max_customers, replace=False)
        x, t_x, T, m_x = x[rows], t_x[rows], T[rows], m_x[rows]
    bg = fit_bgnbd(x, t_x, T)
    try:
        gg = fit_gamma_gamma(x, m_x)
    except InsufficientDataError:
        gg = GammaGammaParams(1.0, 2.0, max(float(fallback_mean), 0.0))
    return bg, gg
