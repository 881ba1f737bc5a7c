"""Levels of Monte Carlo checks: one false-alarm rate for a whole check."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from scipy import stats

# A Monte Carlo check that takes the largest of k test statistics has the false-alarm rate
# of all k together.  We fix that rate for the whole check, FALSE_ALARM = 1e-3, and give
# each statistic the Sidak level 1 - (1 - FALSE_ALARM)^(1/k), so that a correct statement
# fails by chance in at most one seed in a thousand whatever k is (Sidak: exact for
# independent statistics, conservative for the dependent z-scores of one sample).
FALSE_ALARM = 1e-3


def sidak_level(k: int, alarm: float = FALSE_ALARM) -> float:
    """Per-statistic level giving a family of ``k`` independent statistics the rate ``alarm``."""
    return -math.expm1(math.log1p(-alarm) / k)


def ks_level(k: int, alarm: float = FALSE_ALARM) -> float:
    """Critical value of the largest of ``k`` scaled KS statistics sqrt(N) D_N.

    sqrt(N) D_N tends to Kolmogorov's law (``scipy.stats.kstwobign``) under the null.
    """
    return float(stats.kstwobign.isf(sidak_level(k, alarm)))


def z_level(k: int, alarm: float = FALSE_ALARM) -> float:
    """Critical value of the largest of ``k`` absolute standard-normal z-scores."""
    return float(stats.norm.isf(sidak_level(k, alarm) / 2))


def ks_scaled(samples: np.ndarray, cdf: Callable) -> float:
    """sqrt(N) times the Kolmogorov-Smirnov distance of ``samples`` to ``cdf``."""
    return float(math.sqrt(samples.size) * stats.kstest(samples, cdf).statistic)
