"""Erlang A (M/M/N+M): Poisson arrivals, exponential service, exponential patience.

Callers who are not answered within their patience (exponential, mean ``patience_s``)
hang up. With ``r = patience_s / aht_s``, offered load ``A`` Erlangs and ``N`` agents,
write ``x = N r`` and ``y = A r`` (service and arrival rates in units of the abandonment
rate ``theta = 1 / patience_s``), ``rho = A / N``, ``P(s, z)`` the regularised lower
incomplete gamma function and ``E`` the Erlang B probability ``B(N, A)``. Then
(Mandelbaum & Zeltyn 2004, section 3; Zeltyn 2004, ch. 3; Garnett, Mandelbaum & Reiman
2002)::

    A(x, y)        = e^y y^(-x) Gamma(x + 1) P(x, y)            (= 1F1(1; x + 1; y))
    P(W > 0)       = A E / (1 + (A - 1) E)
    P(Ab | W > 0)  = 1 - 1/rho + 1/(rho A)
    P(V > t)       = P(W > 0) P(x, y e^(-theta t)) / P(x, y)    (offered wait V)
    P(Sr, 0 < W <= t) = P(W > 0) / rho * [1 - 1/A - P(x + 1, y e^(-theta t)) / P(x, y)]
    E[W]           = P(Ab) / theta                              (all offered contacts)
    E[W 1{Sr}]     = P(W > 0) / (rho theta P(x, y)) * int_0^y P(x + 1, u) / u du

The last two lines follow from the offered wait of a caller who finds k others waiting:
``1 - exp(-theta V)`` is Beta(k + 1, x) distributed, and the answered caller is the one
whose patience outlasts V. The integral is evaluated by Gauss-Legendre quadrature in
``log u``; everything else is closed form. All incomplete gamma ratios are taken in log
space, with a series for ``P`` where it underflows (lightly loaded, long patience), so
nothing overflows at any load.

Service level definitions under abandonment (``sl_definition``):

* ``"offered"`` (default): answered within t / all offered contacts,
  ``P(W <= t and served)``; abandoned contacts count as failures.
* ``"answered"``: answered within t / answered contacts, ``P(W <= t | served)``.
* ``"virtual"``: ``P(V <= t)``, the share whose offered wait is within t (as if patient).

References
----------
A. Mandelbaum and S. Zeltyn, "The Palm/Erlang-A Queue, with Applications to Call
Centers", technical report, Technion (2004). S. Zeltyn, "Call Centers with Impatient
Customers: Exact Analysis and Many-Server Asymptotics of the M/M/n+G Queue", M.Sc.
thesis, Technion (2004). O. Garnett, A. Mandelbaum and M. Reiman, "Designing a Call
Center with Impatient Customers", MSOM 4(3), 208-227 (2002).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import special

from ._checks import as_agents, as_nonnegative, as_positive, as_share
from .erlang_kernel import TINY as _TINY
from .erlang_kernel import as_output as _out
from .erlang_kernel import check_traffic, erlang_c_min_agents
from .erlang_kernel import log_erlang_b as _log_erlang_b
from .erlang_kernel import validate_sl_definition as _validate_sl_definition

__all__ = [
    "ErlangAMetrics",
    "erlang_a_metrics",
    "erlang_a_required_agents",
    "erlang_a_service_level",
]

_SERIES_EPS = 1e-17
_QUAD_NODES = 48
_QUAD_BLOCK = 16384


@dataclass(frozen=True)
class ErlangAMetrics:
    """Steady-state Erlang A figures per interval (arrays of the broadcast shape).

    Attributes
    ----------
    p_wait : ndarray
        P(W > 0), share of offered contacts that find all agents busy.
    p_abandon : ndarray
        Share of offered contacts that hang up before being answered.
    mean_wait_s : ndarray
        E[W], mean time in queue of all offered contacts (answered or abandoned), s.
    asa_s : ndarray
        E[W | answered], average speed of answer of the answered contacts, s.
    occupancy : ndarray
        Carried load over agents, ``A (1 - P(Ab)) / N``.
    """

    p_wait: NDArray
    p_abandon: NDArray
    mean_wait_s: NDArray
    asa_s: NDArray
    occupancy: NDArray


# ----------------------------------------------------------------------------- kernels


def _series_s(s: NDArray, z: NDArray) -> NDArray:
    """1F1(1; s + 1; z) = sum_k z^k / prod_{i=1..k} (s + i), for z < s (ratio < 1)."""
    total = np.ones_like(z)
    term = np.ones_like(z)
    active = np.arange(z.size)
    k = 0
    while active.size:
        k += 1
        t = term[active] * z[active] / (s[active] + k)
        term[active] = t
        total[active] += t
        active = active[t > _SERIES_EPS * total[active]]
    return total


def _log_p(s: NDArray, z: NDArray) -> NDArray:
    """log P(s, z), regularised lower incomplete gamma, accurate where P underflows."""
    s, z = np.broadcast_arrays(s, z)
    p = special.gammainc(s, z)
    with np.errstate(divide="ignore"):
        out = np.log(p)
    tail = (p < _TINY) & (z > 0)
    if tail.any():
        st, zt = s[tail], z[tail]
        out[tail] = (
            special.xlogy(st, zt) - zt - special.gammaln(st + 1.0) + np.log(_series_s(st, zt))
        )
    return out


@lru_cache(maxsize=4)
def _legendre(n: int) -> tuple[NDArray, NDArray]:
    return np.polynomial.legendre.leggauss(n)


def _core(a, n, r):
    """Shared pieces for N >= 1, A > 0 (flat arrays): x, y, log P(x, y), 1/A, P(W>0)."""
    x, y = n * r, a * r
    log_pxy = _log_p(x, y)
    log_a = y - special.xlogy(x, y) + special.gammaln(x + 1.0) + log_pxy
    log_e = _log_erlang_b(a, n)
    e = np.exp(log_e)
    p_wait = special.expit(log_a + log_e - np.log1p(-e))
    inv_a = np.exp(-log_a)
    return x, y, log_pxy, inv_a, p_wait


def _quad_served_wait(x, y, log_pxy):
    """int_0^y P(x + 1, u) / u du / P(x, y), Gauss-Legendre in w = log u.

    Above the 1 - 1e-17 quantile of Gamma(x + 1) the integrand is 1 / P(x, y) and is
    integrated exactly; below, the lower end is where the integrand has fallen by 1e-18.
    """
    s = x + 1.0
    log_y = np.log(y)
    q_hi = special.gammainccinv(s, 1e-17)
    w_hi = np.minimum(log_y, np.log(q_hi))
    above = log_y > w_hi  # only possible where P(x, y) is close to 1
    flat = np.where(above, (log_y - w_hi) * np.exp(-np.where(above, log_pxy, 0.0)), 0.0)
    # lower end, whichever is higher: (a) where P(x + 1, u) < 1e-18 P(x, y); (b) when y
    # lies below the bulk, the integrand decays at least like exp(-(s - y)(log y - w))
    with np.errstate(divide="ignore", under="ignore"):
        q_lo = special.gammaincinv(s, 1e-18 * np.exp(log_pxy))
        w_lo_bulk = np.log(q_lo)
        slope = s - np.minimum(y, s)
        w_lo_tail = np.where(slope > 0, log_y - 42.0 / slope, -np.inf)
    w_lo = np.minimum(np.maximum(w_lo_bulk, w_lo_tail), w_hi)
    nodes, weights = _legendre(_QUAD_NODES)
    half = 0.5 * (w_hi - w_lo)
    mid = 0.5 * (w_hi + w_lo)
    body = np.empty_like(half)
    for start in range(0, half.size, _QUAD_BLOCK):  # bounded memory for long horizons
        sl = slice(start, start + _QUAD_BLOCK)
        w = mid[sl, None] + half[sl, None] * nodes[None, :]
        ss = np.broadcast_to(s[sl, None], w.shape)
        vals = np.exp(_log_p(ss, np.exp(w)) - log_pxy[sl, None])
        body[sl] = half[sl] * (vals @ weights)
    return body + flat


def _p_abandon(pw, inv_a, rho):
    """P(Ab) = P(W>0) (1 - (1 - 1/A(x, y)) / rho) (Mandelbaum & Zeltyn 2004).

    At vanishing traffic (rho below ~1e-308) 1/rho overflows while P(W>0) is 0: nobody
    waits, so nobody abandons.
    """
    with np.errstate(over="ignore", invalid="ignore"):
        pab = pw * (1.0 - (1.0 - inv_a) / rho)
    return np.clip(np.where(np.isfinite(pab), pab, 0.0), 0.0, 1.0)


def _metrics_flat(a, h, n, pat, with_asa=True):
    """Erlang A metrics on flat, validated arrays."""
    shape = a.shape
    p_wait = np.zeros(shape)
    p_ab = np.zeros(shape)
    asa = np.zeros(shape)
    zero_agents = (n == 0) & (a > 0)
    p_wait[zero_agents] = 1.0
    p_ab[zero_agents] = 1.0
    asa[zero_agents] = np.nan  # nobody is answered; replaced below
    m = (n > 0) & (a > _TINY)  # traffic below 1e-280 Erlangs: the limits at no traffic
    if m.any():
        am, nm, hm, pm = a[m], n[m], h[m], pat[m]
        r = pm / hm
        x, y, log_pxy, inv_a, pw = _core(am, nm, r)
        rho = am / nm
        pab = _p_abandon(pw, inv_a, rho)
        p_wait[m] = pw
        p_ab[m] = pab
        if with_asa:
            served = 1.0 - pab
            integral = _quad_served_wait(x, y, log_pxy)
            w_served = pw / rho * pm * integral  # E[W 1{Sr}] in seconds
            with np.errstate(divide="ignore", invalid="ignore"):
                asa[m] = np.where(served > 0, w_served / served, 0.0)
    mean_wait = p_ab * pat
    with np.errstate(divide="ignore", invalid="ignore"):
        occ = np.where(n > 0, a * (1.0 - p_ab) / n, np.where(a > 0, 1.0, 0.0))
    asa = np.where(zero_agents, pat, asa)  # no one is answered: report the patience
    return p_wait, p_ab, mean_wait, asa, np.clip(occ, 0.0, 1.0)


def _sl_flat(a, h, n, t, pat, definition):
    sl = np.ones(a.shape)
    sl[(n == 0) & (a > 0)] = 0.0
    m = (n > 0) & (a > _TINY)  # traffic below 1e-280 Erlangs: the limits at no traffic
    if m.any():
        am, nm, hm, tm, pm = a[m], n[m], h[m], t[m], pat[m]
        r = pm / hm
        x, y, log_pxy, inv_a, pw = _core(am, nm, r)
        z = y * np.exp(-tm / pm)
        if definition == "virtual":
            ratio = np.exp(_log_p(x, z) - log_pxy)
            val = 1.0 - pw * ratio
        else:
            rho = am / nm
            r2 = np.exp(_log_p(x + 1.0, z) - log_pxy)
            within = (1.0 - pw) + pw / rho * np.maximum(1.0 - inv_a - r2, 0.0)
            if definition == "offered":
                val = within
            else:
                pab = _p_abandon(pw, inv_a, rho)
                val = within / (1.0 - pab)
        sl[m] = np.clip(val, 0.0, 1.0)
    return sl


def _prepare(traffic, aht_s, agents, patience_s, *extra):
    a = check_traffic("traffic", as_nonnegative("traffic", traffic))
    h = as_positive("aht_s", aht_s)
    n = as_agents("agents", agents)
    pat = as_positive("patience_s", patience_s)
    arrs = np.broadcast_arrays(a, h, n, pat, *extra)
    shape = arrs[0].shape
    return shape, [np.ravel(x).astype(float) for x in arrs]


# ----------------------------------------------------------------------------- public


def erlang_a_metrics(
    traffic: ArrayLike, aht_s: ArrayLike, agents: ArrayLike, patience_s: ArrayLike
) -> ErlangAMetrics:
    """P(wait), P(abandon), mean waits and occupancy of M/M/N+M, vectorised.

    Parameters
    ----------
    traffic : array_like
        Offered load A in Erlangs (>= 0).
    aht_s : array_like
        Average handle time in seconds (> 0).
    agents : array_like
        Agents N (whole numbers >= 0).
    patience_s : array_like
        Mean patience in seconds (> 0), exponentially distributed.

    Returns
    -------
    ErlangAMetrics
        Arrays of the broadcast shape. With zero agents everyone abandons
        (``p_abandon = 1``, ``asa_s`` = ``patience_s`` by convention); with zero traffic
        all figures are 0.

    Raises
    ------
    StaffingInputError
        For negative, NaN or infinite inputs or fractional agents.

    Examples
    --------
    >>> m = erlang_a_metrics(10.0, 180.0, 10, 180.0)
    >>> round(float(m.p_abandon), 4), round(float(m.mean_wait_s), 2)
    (0.1251, 22.52)
    """
    shape, (a, h, n, pat) = _prepare(traffic, aht_s, agents, patience_s)
    fields = _metrics_flat(a, h, n, pat)
    return ErlangAMetrics(*(_out(f.reshape(shape)) for f in fields))


def erlang_a_service_level(
    traffic: ArrayLike,
    aht_s: ArrayLike,
    agents: ArrayLike,
    threshold_s: ArrayLike,
    patience_s: ArrayLike,
    sl_definition: str = "offered",
) -> NDArray:
    """Erlang A service level under the chosen definition (see the module docstring).

    Parameters
    ----------
    traffic, aht_s, agents, patience_s
        As :func:`erlang_a_metrics`.
    threshold_s : array_like
        Threshold t in seconds (>= 0).
    sl_definition : {"offered", "answered", "virtual"}
        ``"offered"``: P(answered within t) over offered contacts (default).

    Returns
    -------
    ndarray of float
        Shares in [0, 1]; 1 with zero traffic, 0 with zero agents and traffic.

    Raises
    ------
    StaffingInputError
        For invalid inputs or an unknown ``sl_definition``.

    Examples
    --------
    >>> round(float(erlang_a_service_level(10.0, 180.0, 10, 20.0, 180.0)), 4)
    0.587
    """
    definition = _validate_sl_definition(sl_definition)
    t = as_nonnegative("threshold_s", threshold_s)
    shape, (a, h, n, pat, tt) = _prepare(traffic, aht_s, agents, patience_s, t)
    return _out(_sl_flat(a, h, n, tt, pat, definition).reshape(shape))


def erlang_a_required_agents(
    traffic: ArrayLike,
    aht_s: ArrayLike,
    target_sl: ArrayLike,
    threshold_s: ArrayLike,
    patience_s: ArrayLike,
    max_occupancy: ArrayLike = 1.0,
    sl_definition: str = "offered",
) -> NDArray:
    """Smallest N whose Erlang A service level meets ``target_sl`` (and occupancy cap).

    A vectorised search over all intervals at once: start from the Erlang C staffing
    for the same target, gallop down (or up) until the target flips, then bisect.

    Parameters
    ----------
    traffic, aht_s, patience_s
        As :func:`erlang_a_metrics`.
    target_sl : array_like
        Target share in (0, 1).
    threshold_s : array_like
        Threshold in seconds (>= 0).
    max_occupancy : array_like
        Cap on ``A (1 - P(Ab)) / N`` in (0, 1].
    sl_definition : str
        See :func:`erlang_a_service_level`.

    Returns
    -------
    ndarray of int64
        Agents; 0 where traffic is 0.

    Raises
    ------
    StaffingInputError
        For invalid inputs.

    Examples
    --------
    >>> int(erlang_a_required_agents(10.0, 180.0, 0.8, 20.0, 180.0))
    12
    """
    definition = _validate_sl_definition(sl_definition)
    target = as_share("target_sl", target_sl)
    t = as_nonnegative("threshold_s", threshold_s)
    occ_cap = as_share("max_occupancy", max_occupancy, high_open=False)
    shape, (a, h, _, pat, tg, tt, mc) = _prepare(
        traffic, aht_s, 0, patience_s, target, t, occ_cap
    )
    out = np.zeros(a.shape)
    idx = np.flatnonzero(a > 0)
    if idx.size == 0:
        return _out(out.reshape(shape).astype(np.int64))

    def ok(sel: NDArray, n: NDArray) -> NDArray:
        sl = _sl_flat(a[sel], h[sel], n, tt[sel], pat[sel], definition)
        good = sl >= tg[sel]
        if np.any(mc[sel] < 1.0):
            _, pab, _, _, _ = _metrics_flat(a[sel], h[sel], n, pat[sel], with_asa=False)
            with np.errstate(divide="ignore", invalid="ignore"):
                occ = np.where(n > 0, a[sel] * (1.0 - pab) / n, 1.0)
            good &= occ <= mc[sel]
        return good

    # Erlang C staffing for the same target as the starting point
    guess = erlang_c_min_agents(a[idx], h[idx], tg[idx], tt[idx], np.floor(a[idx]) + 1.0)
    guess = np.maximum(guess, 1.0)
    hi = guess.copy()
    lo = np.zeros_like(hi)  # n = 0 fails: SL(0) = 0 < target
    good = ok(idx, hi)
    # gallop up where the guess fails
    up = ~good
    step = np.ones_like(hi)
    while up.any():
        lo[up] = hi[up]
        hi[up] = hi[up] + step[up]
        step[up] *= 2.0
        sel = np.flatnonzero(up)
        g = ok(idx[sel], hi[sel])
        up[sel[g]] = False
    # gallop down where the guess holds
    step = np.ones_like(hi)
    down = good.copy()
    probe_hi = hi.copy()
    while down.any():
        sel = np.flatnonzero(down)
        cand = np.maximum(probe_hi[sel] - step[sel], 0.0)
        g = ok(idx[sel], cand)
        hi[sel[g]] = cand[g]
        lo[sel[~g]] = np.maximum(lo[sel[~g]], cand[~g])
        probe_hi[sel] = cand
        step[sel] *= 2.0
        down[sel[~g | (cand <= 0)]] = False
    # bisect on (lo, hi]: lo fails, hi holds
    while True:
        sel = np.flatnonzero(hi - lo > 1.0)
        if sel.size == 0:
            break
        mid = np.floor(0.5 * (lo[sel] + hi[sel]))
        g = ok(idx[sel], mid)
        hi[sel[g]] = mid[g]
        lo[sel[~g]] = mid[~g]
    out[idx] = hi
    return _out(out.reshape(shape).astype(np.int64))
