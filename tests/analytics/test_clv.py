"""BG/NBD and Gamma-Gamma: likelihoods against independent formulas, gradients, recovery."""

import math
from dataclasses import replace

import numpy as np
import pytest
from scipy import integrate, stats

from analytics import clv

CDNOW_BG = clv.BGNBDParams(r=0.243, alpha=4.414, a=0.793, b=2.426)
CDNOW_GG = clv.GammaGammaParams(p=6.25, q=3.74, gamma=15.44)
BG_SETS = [
    CDNOW_BG,
    clv.BGNBDParams(r=1.5, alpha=10.0, a=2.0, b=5.0),
    clv.BGNBDParams(r=0.5, alpha=0.8, a=0.3, b=0.9),
]
GG_SETS = [CDNOW_GG, clv.GammaGammaParams(p=1.2, q=1.5, gamma=3.0)]
# (x, t_x, T) in weeks: no repeat, T = t_x, typical, many repeats, T = 0.
CUSTOMERS = [(0, 0.0, 39.0), (1, 39.0, 39.0), (2, 30.43, 38.86), (7, 35.0, 38.0), (0, 0.0, 0.0)]
SPENDERS = [(1, 25.0), (2, 41.3), (6, 12.5), (20, 120.0)]  # (x, m_x)


def lbeta(a, b):
    return math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b)


def paper_log_likelihood(params, x, t_x, T):
    """FHL (2005) eq. 6 per customer, term by term with math.lgamma."""
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    common = math.lgamma(r + x) + r * math.log(alpha) - math.lgamma(r)
    first = lbeta(a, b + x) - lbeta(a, b) + common - (r + x) * math.log(alpha + T)
    if x == 0:
        return first
    second = lbeta(a + 1, b + x - 1) - lbeta(a, b) + common - (r + x) * math.log(alpha + t_x)
    top = max(first, second)
    return top + math.log(math.exp(first - top) + math.exp(second - top))


def paper_probability_alive(params, x, t_x, T):
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    if x == 0:
        return 1.0
    return 1 / (1 + a / (b + x - 1) * ((alpha + T) / (alpha + t_x)) ** (r + x))


def series_hyp2f1(a, b, c, z):
    """Gauss's series, summed until the terms vanish (|z| < 1)."""
    total, term, n = 1.0, 1.0, 0
    while abs(term) > 1e-17 * abs(total):
        term *= (a + n) * (b + n) / ((c + n) * (n + 1)) * z
        total += term
        n += 1
    return total


def paper_expected_purchases(params, t, x, t_x, T):
    """FHL (2005) eq. 10 as printed, without the Euler transformation the code uses."""
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    z = t / (alpha + T + t)
    hyp = series_hyp2f1(r + x, b + x, a + b + x - 1, z)
    numerator = (a + b + x - 1) / (a - 1) * (1 - ((alpha + T) / (alpha + T + t)) ** (r + x) * hyp)
    return numerator * paper_probability_alive(params, x, t_x, T)


def paper_gg_log_likelihood(params, x, m_x):
    """Fader and Hardie (2013), the density of m_x given x, with math.lgamma."""
    p, q, gamma = params.p, params.q, params.gamma
    return (
        math.lgamma(p * x + q)
        - math.lgamma(p * x)
        - math.lgamma(q)
        + q * math.log(gamma)
        + (p * x - 1) * math.log(m_x)
        + p * x * math.log(x)
        - (p * x + q) * math.log(gamma + m_x * x)
    )


def integrated_gg_likelihood(params, x, m_x):
    """The same density from the model's definition: m_x | nu ~ Gamma(px, rate x nu), nu ~ Gamma(q, gamma)."""

    def integrand(nu):
        return stats.gamma.pdf(m_x, params.p * x, scale=1 / (x * nu)) * stats.gamma.pdf(
            nu, params.q, scale=1 / params.gamma
        )

    value, _ = integrate.quad(integrand, 0, np.inf, limit=200, epsabs=0, epsrel=1e-10)
    return math.log(value)


@pytest.mark.parametrize("params", BG_SETS)
def test_bgnbd_likelihood_matches_the_paper_formula(params):
    x, t_x, T = (np.array(c, dtype=float) for c in zip(*CUSTOMERS, strict=True))
    expected = [paper_log_likelihood(params, *c) for c in CUSTOMERS]
    got = clv.bgnbd_log_likelihood(params, x, t_x, T)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


def test_bgnbd_likelihood_of_cdnow_customer_by_hand():
    # x=0 at T=39: (alpha / (alpha + T))^r, the only term left.
    expected = 0.243 * math.log(4.414 / 43.414)
    got = clv.bgnbd_log_likelihood(CDNOW_BG, [0], [0.0], [39.0])[0]
    assert got == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("params", BG_SETS)
def test_probability_alive_and_expected_purchases_match_the_paper(params):
    x, t_x, T = (np.array(c, dtype=float) for c in zip(*CUSTOMERS, strict=True))
    alive = clv.probability_alive(params, x, t_x, T)
    np.testing.assert_allclose(alive, [paper_probability_alive(params, *c) for c in CUSTOMERS])
    for t in (1.0, 13.0, 52.0):
        got = clv.expected_purchases(params, t, x, t_x, T)
        expected = [paper_expected_purchases(params, t, *c) for c in CUSTOMERS]
        np.testing.assert_allclose(got, expected, rtol=1e-9)


def test_expected_purchases_cdnow_published_example():
    # FHL (2005) section 5: a customer with x=2, t_x=30.43, T=38.86 is expected to make
    # 1.226 purchases in the next 39 weeks.
    got = clv.expected_purchases(CDNOW_BG, 39.0, [2.0], [30.43], [38.86])[0]
    assert got == pytest.approx(1.226, abs=0.001)


def test_expected_purchases_match_a_posterior_simulation():
    """Monte Carlo from the model's definition, nothing shared with eq. 10.

    Alive at T, the posterior is lambda ~ Gamma(r + x, rate alpha + T) and p ~ Beta(a, b + x);
    each purchase in (T, T + t] comes at rate lambda and is followed by dropout with
    probability p, so the number of purchases is simulated as a Poisson process stopped at
    the first "dropout" purchase.
    """
    rng = np.random.default_rng(11)
    params, x, t_x, T, t = CDNOW_BG, 2.0, 30.43, 38.86, 39.0
    n = 400_000
    rate = rng.gamma(params.r + x, 1 / (params.alpha + T), n)
    dropout = rng.beta(params.a, params.b + x, n)
    purchases = np.zeros(n)
    now = np.zeros(n)
    active = np.arange(n)
    while active.size:
        now[active] += rng.exponential(1 / rate[active])
        active = active[now[active] <= t]
        purchases[active] += 1
        active = active[rng.random(active.size) >= dropout[active]]
    alive = clv.probability_alive(params, [x], [t_x], [T])[0]
    simulated = alive * purchases.mean()
    error = 4 * alive * purchases.std() / np.sqrt(n)  # four standard errors
    assert clv.expected_purchases(params, t, [x], [t_x], [T])[0] == pytest.approx(
        simulated, abs=error
    )


def test_expected_purchases_same_with_scalar_or_per_customer_horizon():
    # The scalar path computes once per distinct (x, T): duplicates must map back right.
    x = np.array([0.0, 3.0, 3.0, 0.0, 3.0, 1.0])
    t_x = np.array([0.0, 10.0, 20.0, 0.0, 10.0, 5.0])
    T = np.array([30.0, 30.0, 30.0, 12.0, 31.0, 30.0])
    scalar = clv.expected_purchases(CDNOW_BG, 26.0, x, t_x, T)
    per_customer = clv.expected_purchases(CDNOW_BG, np.full(6, 26.0), x, t_x, T)
    np.testing.assert_allclose(scalar, per_customer, rtol=1e-14)
    expected = [paper_expected_purchases(CDNOW_BG, 26.0, *c) for c in zip(x, t_x, T, strict=True)]
    np.testing.assert_allclose(scalar, expected, rtol=1e-9)


def test_expected_purchases_survive_degenerate_parameters():
    # A fit on one customer ends at the bounds; scipy's 2F1 returns nan there.
    params = clv.BGNBDParams(r=99999.7, alpha=999999.99, a=0.00256, b=19154.3)
    x, t_x, T = np.array([3.0, 0.0]), np.array([20.0, 0.0]), np.array([30.0, 5.0])
    got = clv.expected_purchases(params, 52.0, x, t_x, T)
    assert np.isfinite(got).all()
    # Nearly deterministic: rate r / alpha = 0.1 a week, dropout about 1e-7 per purchase.
    np.testing.assert_allclose(got, 5.2 * clv.probability_alive(params, x, t_x, T), rtol=1e-3)


@pytest.mark.parametrize("params", GG_SETS)
def test_gamma_gamma_likelihood_matches_the_paper_and_the_integral(params):
    x, m_x = (np.array(c, dtype=float) for c in zip(*SPENDERS, strict=True))
    got = clv.gamma_gamma_log_likelihood(params, x, m_x)
    np.testing.assert_allclose(got, [paper_gg_log_likelihood(params, *s) for s in SPENDERS])
    integrated = [integrated_gg_likelihood(params, *s) for s in SPENDERS]
    np.testing.assert_allclose(got, integrated, rtol=1e-6)


def test_expected_average_value_is_the_posterior_mean():
    x, m_x = np.array([0.0, 1.0, 4.0, 2.0]), np.array([0.0, 30.0, 10.0, 0.0])
    got = clv.expected_average_value(CDNOW_GG, x, m_x)
    p, q, gamma = 6.25, 3.74, 15.44
    population = p * gamma / (q - 1)
    assert CDNOW_GG.population_mean == pytest.approx(population)
    weight = p * 1 / (p * 1 + q - 1)
    assert got[0] == pytest.approx(population)  # no repeat purchase
    assert got[1] == pytest.approx((1 - weight) * population + weight * 30.0)
    assert got[2] == pytest.approx((gamma + 40.0) * p / (4 * p + q - 1))
    assert got[3] == pytest.approx(population)  # m_x = 0 is unusable: population mean


def finite_difference(log_likelihood, params, fields, step=1e-6):
    values = np.array([getattr(params, f) for f in fields], dtype=float)
    grad = []
    for i in range(len(values)):
        h = step * values[i]
        up, down = values.copy(), values.copy()
        up[i] += h
        down[i] -= h
        diff = log_likelihood(type(params)(*up)) - log_likelihood(type(params)(*down))
        grad.append(diff / (2 * h))
    return np.array(grad)


@pytest.mark.parametrize("params", BG_SETS)
def test_bgnbd_gradient_matches_finite_differences(params):
    x, t_x, T = (np.array(c, dtype=float) for c in zip(*CUSTOMERS, strict=True))
    numeric = finite_difference(
        lambda p: clv.bgnbd_log_likelihood(p, x, t_x, T).sum(), params, ("r", "alpha", "a", "b")
    )
    np.testing.assert_allclose(clv.bgnbd_gradient(params, x, t_x, T), numeric, rtol=1e-5)


@pytest.mark.parametrize("params", GG_SETS)
def test_gamma_gamma_gradient_matches_finite_differences(params):
    x, m_x = (np.array(c, dtype=float) for c in zip(*SPENDERS, strict=True))
    numeric = finite_difference(
        lambda p: clv.gamma_gamma_log_likelihood(p, x, m_x).sum(), params, ("p", "q", "gamma")
    )
    np.testing.assert_allclose(clv.gamma_gamma_gradient(params, x, m_x), numeric, rtol=1e-5)


def simulate(n, bg, gg, *, weeks=39.0, seed=1):
    """The BG/NBD and Gamma-Gamma generative processes, customer by customer in lockstep.

    First purchases spread over the first 12 weeks (as in CDNOW) or fewer; lambda ~ Gamma(r, rate
    alpha), dropout p ~ Beta(a, b); exponential gaps; after each repeat purchase the
    customer drops out with probability p. Each repeat purchase spends Gamma(p, rate nu)
    with nu ~ Gamma(q, rate gamma).
    """
    rng = np.random.default_rng(seed)
    rate = rng.gamma(bg.r, 1 / bg.alpha, n)
    dropout = rng.beta(bg.a, bg.b, n)
    nu = rng.gamma(gg.q, 1 / gg.gamma, n)
    T = weeks - rng.uniform(0, min(12.0, weeks), n)
    x, t_x, spend, now = np.zeros(n), np.zeros(n), np.zeros(n), np.zeros(n)
    active = np.arange(n)
    while active.size:
        now[active] += rng.exponential(1 / rate[active])
        active = active[now[active] <= T[active]]
        x[active] += 1
        t_x[active] = now[active]
        spend[active] += rng.gamma(gg.p, 1 / nu[active])
        active = active[rng.random(active.size) >= dropout[active]]
    m_x = np.divide(spend, x, out=np.zeros(n), where=x > 0)
    return x, t_x, T, m_x


def standard_errors(gradient, estimate):
    """Asymptotic standard errors from the observed information (numeric Hessian)."""
    values = np.array(estimate)
    hessian = np.zeros((len(values), len(values)))
    for i in range(len(values)):
        h = 1e-5 * values[i]
        up, down = values.copy(), values.copy()
        up[i] += h
        down[i] -= h
        hessian[i] = (gradient(up) - gradient(down)) / (2 * h)
    return np.sqrt(np.diag(np.linalg.inv(-hessian)))


def test_fit_recovers_the_simulated_parameters():
    """60,000 simulated customers, 39-week calibration, CDNOW parameters.

    With that many customers the asymptotic standard error of every estimate is at most
    about 6.5% of its value (b, the worst identified, and p, gamma for the spend model), so
    a 20% band is about three standard errors: a correct fit stays inside it, a wrong
    likelihood or time unit lands far outside. The test also checks the 3-SE band directly.
    """
    x, t_x, T, m_x = simulate(60_000, CDNOW_BG, CDNOW_GG)
    bg = clv.fit_bgnbd(x, t_x, T)
    gg = clv.fit_gamma_gamma(x, m_x)
    truth_bg = np.array([0.243, 4.414, 0.793, 2.426])
    got_bg = np.array([bg.r, bg.alpha, bg.a, bg.b])
    truth_gg = np.array([6.25, 3.74, 15.44])
    got_gg = np.array([gg.p, gg.q, gg.gamma])
    np.testing.assert_allclose(got_bg, truth_bg, rtol=0.20)
    np.testing.assert_allclose(got_gg, truth_gg, rtol=0.20)

    se_bg = standard_errors(lambda v: clv.bgnbd_gradient(clv.BGNBDParams(*v), x, t_x, T), got_bg)
    repeat = x > 0
    se_gg = standard_errors(
        lambda v: clv.gamma_gamma_gradient(clv.GammaGammaParams(*v), x[repeat], m_x[repeat]),
        got_gg,
    )
    assert (np.abs(got_bg - truth_bg) < 3 * se_bg).all()
    assert (np.abs(got_gg - truth_gg) < 3 * se_gg).all()
    assert (se_bg / truth_bg < 0.07).all() and (se_gg / truth_gg < 0.07).all()


def test_fit_sample_fits_on_a_sample_and_is_reproducible():
    x, t_x, T, m_x = simulate(30_000, CDNOW_BG, CDNOW_GG, seed=2)
    first = clv.fit_sample(x, t_x, T, m_x, max_customers=20_000, seed=5)
    again = clv.fit_sample(x, t_x, T, m_x, max_customers=20_000, seed=5)
    full = clv.fit_sample(x, t_x, T, m_x)
    assert first == again
    assert first != full  # the sample really is a sample
    bg, gg = first
    np.testing.assert_allclose([bg.r, bg.alpha], [0.243, 4.414], rtol=0.2)
    np.testing.assert_allclose([gg.p, gg.q, gg.gamma], [6.25, 3.74, 15.44], rtol=0.3)


def test_collapsing_identical_rows_gives_the_same_fit_as_weights():
    x, t_x, T, _ = simulate(3_000, CDNOW_BG, CDNOW_GG, seed=4)
    # Day resolution, like the pipeline's inputs: many identical rows.
    t_x, T = np.ceil(t_x * 7) / 7, np.ceil(T * 7) / 7
    expanded = clv.fit_bgnbd(x, t_x, T)
    rows, counts = np.unique(np.column_stack([x, t_x, T]), axis=0, return_counts=True)
    weighted = clv.fit_bgnbd(rows[:, 0], rows[:, 1], rows[:, 2], weights=counts)
    np.testing.assert_allclose(
        [weighted.r, weighted.alpha, weighted.a, weighted.b],
        [expanded.r, expanded.alpha, expanded.a, expanded.b],
        rtol=1e-5,
    )


def test_predicted_value_discounts_monthly_increments():
    x, t_x, T = np.array([0.0, 2.0, 7.0]), np.array([0.0, 30.43, 35.0]), np.array([39.0] * 3)
    m_x = np.array([0.0, 40.0, 25.0])
    value = clv.expected_average_value(CDNOW_GG, x, m_x)
    undiscounted = clv.predicted_value(CDNOW_BG, CDNOW_GG, x, t_x, T, m_x, annual_discount_rate=0.0)
    # The monthly increments telescope to the expected purchases in 52 weeks.
    np.testing.assert_allclose(
        undiscounted, clv.expected_purchases(CDNOW_BG, 52.0, x, t_x, T) * value
    )
    discounted = clv.predicted_value(CDNOW_BG, CDNOW_GG, x, t_x, T, m_x)
    monthly = 1.1 ** (1 / 12) - 1
    by_hand = sum(
        (
            clv.expected_purchases(CDNOW_BG, k * 52 / 12, x, t_x, T)
            - clv.expected_purchases(CDNOW_BG, (k - 1) * 52 / 12, x, t_x, T)
        )
        / (1 + monthly) ** k
        for k in range(1, 13)
    )
    np.testing.assert_allclose(discounted, by_hand * value)
    assert (discounted < undiscounted).all() and (discounted > 0.9 * undiscounted).all()
    six = clv.predicted_value(CDNOW_BG, CDNOW_GG, x, t_x, T, m_x, months=6)
    assert (six < discounted).all()
    assert (clv.predicted_value(CDNOW_BG, CDNOW_GG, x, t_x, T, m_x, months=0) == 0).all()


def test_scoring_in_chunks_equals_scoring_everyone():
    x, t_x, T, m_x = simulate(2_000, CDNOW_BG, CDNOW_GG, seed=9)
    t_x, T = np.ceil(t_x * 7) / 7, np.ceil(T * 7) / 7  # day resolution: shared (x, T)
    whole = clv.predicted_value(CDNOW_BG, CDNOW_GG, x, t_x, T, m_x)
    whole_expected = clv.expected_purchases(CDNOW_BG, 52.0, x, t_x, T)
    chunks = np.array_split(np.arange(len(x)), [300, 301, 1500])
    chunked = np.concatenate(
        [clv.predicted_value(CDNOW_BG, CDNOW_GG, x[c], t_x[c], T[c], m_x[c]) for c in chunks]
    )
    chunked_expected = np.concatenate(
        [clv.expected_purchases(CDNOW_BG, 52.0, x[c], t_x[c], T[c]) for c in chunks]
    )
    assert chunked.tolist() == whole.tolist()
    assert chunked_expected.tolist() == whole_expected.tolist()


def test_model_inputs_from_day_counts():
    x, t_x, T, m_x = clv.model_inputs([1, 3], [0, 14], [7, 21], [0.0, 90.0])
    assert x.tolist() == [0.0, 2.0]
    assert t_x.tolist() == [0.0, 2.0]
    assert T.tolist() == [1.0, 3.0]
    assert m_x.tolist() == [0.0, 45.0]


def assert_all_finite(bg, gg, x, t_x, T, m_x):
    assert np.isfinite(clv.bgnbd_log_likelihood(bg, x, t_x, T)).all()
    for array in (
        clv.probability_alive(bg, x, t_x, T),
        clv.expected_purchases(bg, 52.0, x, t_x, T),
        clv.expected_average_value(gg, x, m_x),
        clv.predicted_value(bg, gg, x, t_x, T, m_x),
    ):
        assert np.isfinite(array).all()
        assert (array >= 0).all()


def test_nobody_bought_twice():
    x, t_x, T, m_x = np.zeros(50), np.zeros(50), np.linspace(0, 80, 50), np.zeros(50)
    bg, gg = clv.fit_sample(x, t_x, T, m_x, fallback_mean=35.0)
    assert gg.population_mean == pytest.approx(35.0)
    assert all(np.isfinite([bg.r, bg.alpha, bg.a, bg.b]))
    assert_all_finite(bg, gg, x, t_x, T, m_x)
    assert (clv.probability_alive(bg, x, t_x, T) == 1).all()
    with pytest.raises(clv.InsufficientDataError):
        clv.fit_gamma_gamma(x, m_x)
    _, no_fallback = clv.fit_sample(x, t_x, T, m_x)
    assert (clv.predicted_value(bg, no_fallback, x, t_x, T, m_x) == 0).all()


@pytest.mark.parametrize("n, weeks", [(2, 1.0), (3, 13.0), (5, 39.0), (10, 156.0), (30, 13.0)])
def test_tiny_data_sets_fit_and_score_finite(n, weeks):
    x, t_x, T, m_x = simulate(n, CDNOW_BG, CDNOW_GG, weeks=weeks, seed=n)
    bg, gg = clv.fit_sample(x, t_x, T, m_x, fallback_mean=20.0)
    assert_all_finite(bg, gg, x, t_x, T, m_x)


def test_single_customer():
    bg, gg = clv.fit_sample([3.0], [20.0], [30.0], [42.0])
    assert_all_finite(bg, gg, np.array([3.0]), np.array([20.0]), np.array([30.0]), [42.0])


def test_last_purchase_on_the_as_of_date():
    x, t_x, T, m_x = np.array([4.0, 1.0]), np.array([39.0, 2.0]), np.array([39.0, 2.0]), [9, 1]
    alive = clv.probability_alive(CDNOW_BG, x, t_x, T)
    # T = t_x: eq. 6's ratio is 1, so P(alive) = 1 / (1 + a / (b + x - 1)).
    np.testing.assert_allclose(alive, 1 / (1 + 0.793 / (2.426 + x - 1)))
    assert_all_finite(CDNOW_BG, CDNOW_GG, x, t_x, T, np.array(m_x, dtype=float))


def test_huge_number_of_repeat_days():
    x = np.array([1000.0, 1000.0, 1000.0])
    t_x = np.array([150.0, 155.9, 156.0])
    T = np.array([156.0, 156.0, 156.0])
    m_x = np.array([20.0, 20.0, 20.0])
    assert_all_finite(CDNOW_BG, CDNOW_GG, x, t_x, T, m_x)
    alive = clv.probability_alive(CDNOW_BG, x, t_x, T)
    assert alive[0] < 1e-10  # six silent weeks are very long at 6.4 purchases a week
    assert alive[2] > 0.99
    expected = clv.expected_purchases(CDNOW_BG, 52.0, x, t_x, T)
    assert expected[0] < expected[1] < expected[2]
    # Alive and buying about (r + x) / (alpha + T) a week, minus the dropout over the year.
    assert 200 < expected[2] < (0.243 + 1000) / (4.414 + 156) * 52
    # The likelihood still matches the paper's formula at x = 1000.
    np.testing.assert_allclose(
        clv.bgnbd_log_likelihood(CDNOW_BG, x, t_x, T),
        [paper_log_likelihood(CDNOW_BG, *c) for c in zip(x, t_x, T, strict=True)],
        rtol=1e-12,
    )


def test_zero_and_negative_monetary_values_are_excluded_from_the_spend_fit():
    x, t_x, T, m_x = simulate(5_000, CDNOW_BG, CDNOW_GG, seed=7)
    clean = clv.fit_gamma_gamma(x, m_x)
    spoiled = m_x.copy()
    repeat = np.flatnonzero(x > 0)
    spoiled[repeat[:50]] = 0.0
    spoiled[repeat[50:60]] = -12.0
    kept = np.ones(len(x), dtype=bool)
    kept[repeat[:60]] = False
    assert clv.fit_gamma_gamma(x, spoiled) == clv.fit_gamma_gamma(x[kept], m_x[kept])
    assert clv.fit_gamma_gamma(x, spoiled) != clean
    assert_all_finite(CDNOW_BG, clv.fit_gamma_gamma(x, spoiled), x, t_x, T, spoiled)


def test_fitted_models_score_without_nan_on_simulated_data():
    x, t_x, T, m_x = simulate(5_000, CDNOW_BG, CDNOW_GG, seed=8)
    bg, gg = clv.fit_sample(x, t_x, T, m_x)
    assert_all_finite(bg, gg, x, t_x, T, m_x)


@pytest.mark.parametrize(
    "x, t_x, T",
    [([-1.0], [0.0], [1.0]), ([1.0], [5.0], [4.0]), ([1.0], [0.0], [4.0]), ([np.nan], [0], [1])],
)
def test_impossible_inputs_are_refused(x, t_x, T):
    with pytest.raises(ValueError):
        clv.fit_bgnbd(x, t_x, T)


def test_bad_weights_are_refused():
    with pytest.raises(ValueError):
        clv.fit_bgnbd([1.0, 0.0], [2.0, 0.0], [3.0, 3.0], weights=[1.0, -1.0])
    with pytest.raises(ValueError):
        clv.fit_bgnbd([1.0, 0.0], [2.0, 0.0], [3.0, 3.0], weights=[1.0])


def test_no_customers_is_refused():
    with pytest.raises(clv.InsufficientDataError):
        clv.fit_sample([], [], [], [])


def test_the_spend_fit_on_its_sums_is_the_per_customer_likelihoods_optimum():
    """fit_gamma_gamma evaluates the likelihood from sums (_Spenders): its optimum is the
    maximum of the per-customer log-likelihood, which every nearby point lowers."""
    x, _t_x, _T, m_x = simulate(20_000, CDNOW_BG, CDNOW_GG, seed=6)
    gg = clv.fit_gamma_gamma(x, m_x)
    repeat = (x > 0) & (m_x > 0)
    best = clv.gamma_gamma_log_likelihood(gg, x[repeat], m_x[repeat]).sum()
    for name in ("p", "q", "gamma"):
        for factor in (0.999, 1.001):
            nearby = replace(gg, **{name: getattr(gg, name) * factor})
            assert clv.gamma_gamma_log_likelihood(nearby, x[repeat], m_x[repeat]).sum() < best
