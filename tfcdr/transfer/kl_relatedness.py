"""Domain relatedness (eq. 8) and the correlations of Table 6 / Fig. 3.

Nguyen et al. measure how related a source and a target are by the
KL-divergence of their histograms of interactions per user,
`R(D_S, D_T) = KLD(H_u(D_S), H_u(D_T))` (eq. 8), and correlate transfer gain
with it, with the target's size and with its sparsity (Pearson, with
p-values). The paper gives neither the binning nor the smoothing; ours:

- Counts: a user's positives in the domain (interactions with rating >= the
  dataset's positive threshold; every interaction for implicit feedback),
  i.e. what the model is trained and evaluated on. Users with none are left
  out.
- Bins: shared half-octave bins, edges 1, 2, 3, 4, 6, 8, 12, 16, 24, ...
  (2^k and 1.5 * 2^k), the last bin closed at the larger maximum of the two
  domains. Activity is heavy-tailed: linear bins would put almost every
  Amazon user in the first bin and spread MovieLens users thinly over
  hundreds. Both histograms use the same edges, or KL would compare
  different events.
- Smoothing: each normalized histogram gets `smoothing` (1e-4) added to
  every bin and is renormalized, so a bin empty in the target but not in
  the source costs a finite, large amount instead of infinity.
- Direction: KL(source || target), as eq. 8 is written. KL is not
  symmetric; `symmetric=True` gives the mean of both directions.
"""

import numpy as np
import scipy.stats

DEFAULT_SMOOTHING = 1e-4


def interactions_per_user(data, domain=None):
    """Positives per user of one domain of a `CrossDomainData` (users with >= 1)."""
    domain = data.domain_names[0] if domain is None else domain
    return data.positives(domain).groupby("user").size().to_numpy(np.int64)


def activity_bins(*counts):
    """Shared half-octave bin edges covering every count in `counts`.

    Returns:
        int64 edges e_0 < e_1 < ... : bin j holds counts in [e_j, e_{j+1}),
        the last bin [e_{-2}, e_{-1}] (numpy.histogram's convention).
    """
    top = max(int(np.max(c)) for c in counts if len(c)) if any(len(c) for c in counts) else 1
    edges = [1]
    k = 0
    while edges[-1] <= top:
        for value in (2 ** (k + 1), 3 * 2**k):
            edges.append(value)
        k += 1
    edges = np.unique(np.asarray(edges, np.int64))
    return edges[: np.searchsorted(edges, top, side="right") + 1]


def activity_histogram(counts, edges, smoothing=DEFAULT_SMOOTHING):
    """Smoothed probability histogram of per-user counts over `edges`."""
    hist, _ = np.histogram(np.asarray(counts), bins=edges)
    total = hist.sum()
    if total == 0:
        raise ValueError("no counts fall into the bins")
    p = hist / total + smoothing
    return p / p.sum()


def kl_divergence(p, q):
    """KL(p || q) = sum p log(p / q) in nats, for strictly positive q."""
    p, q = np.asarray(p, np.float64), np.asarray(q, np.float64)
    if p.shape != q.shape:
        raise ValueError(f"histograms differ in shape: {p.shape} vs {q.shape}")
    if np.any(q <= 0):
        raise ValueError("q must be positive everywhere (smooth it)")
    mask = p > 0
    return float(np.sum(p[mask] * np.log(p[mask] / q[mask])))


def relatedness(source_counts, target_counts, smoothing=DEFAULT_SMOOTHING, symmetric=False):
    """Eq. 8: KL-divergence of two domains' histograms of interactions per user.

    Args:
        source_counts, target_counts: per-user interaction counts (e.g. from
            `interactions_per_user`).
        smoothing: probability added to each bin before renormalizing.
        symmetric: mean of KL(S||T) and KL(T||S) instead of KL(S||T).

    Returns:
        Float KL-divergence in nats: 0 for identical histograms, growing as
        they move apart (lower = more related).
    """
    edges = activity_bins(source_counts, target_counts)
    p = activity_histogram(source_counts, edges, smoothing)
    q = activity_histogram(target_counts, edges, smoothing)
    value = kl_divergence(p, q)
    if symmetric:
        value = 0.5 * (value + kl_divergence(q, p))
    return value


def pearson(x, y):
    """Pearson correlation and two-sided p-value (`scipy.stats.pearsonr`).

    Returns (nan, nan) with fewer than three finite pairs or a constant
    input, where the coefficient is undefined, instead of warning.
    """
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    keep = np.isfinite(x) & np.isfinite(y)
    x, y = x[keep], y[keep]
    if len(x) < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return float("nan"), float("nan")
    result = scipy.stats.pearsonr(x, y)
    return float(result.statistic), float(result.pvalue)


def domain_statistics(data, domain=None):
    """Size and sparsity of one domain, as Table 2 reports them.

    Returns:
        Dict with users, items, interactions (positives), density and
        sparsity in percent (100 * (1 - positives / (users * items))).
    """
    counts = interactions_per_user(data, domain)
    domain = data.domain_names[0] if domain is None else domain
    users, items, positives = len(counts), data.domain(domain).num_items, int(counts.sum())
    density = positives / max(users * items, 1)
    return {
        "users": users,
        "items": items,
        "interactions": positives,
        "density": density,
        "sparsity": 100.0 * (1.0 - density),
    }
