"""Checks of the arguments of public functions: one way to validate, one kind of error.

Every public function of the package validates its input with these helpers, so that bad
input stops with a ``ValueError`` that names the argument, never with a traceback from
deep inside numpy or torch.

Conventions the whole package follows (documented once, here):

* **Randomness.** A function that draws random numbers takes ``rng``: either a seed (a
  non-negative integer) or a ``numpy.random.Generator``.  :func:`check_rng` turns either
  into a generator.  Functions that run torch code accept the same and turn it into a
  ``torch.Generator`` (see :func:`hiddenunits.nets.torch_generator`).  Nothing in the
  package seeds a global generator.
* **Scalars and arrays.** Elementwise functions of real arguments accept scalars or
  arrays.  They return a Python ``float`` when every array argument is a scalar, and a
  float64 ``numpy.ndarray`` otherwise (:func:`scalar_or_array`).
* **Cached results** are immutable (tuples, read-only arrays, frozen dataclasses) or
  copies, so no caller can change what another caller sees.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

__all__ = [
    "check_array",
    "check_bool",
    "check_choice",
    "check_int",
    "check_probability",
    "check_real",
    "check_rng",
    "check_seed",
    "check_sizes",
    "scalar_or_array",
    "seeded_call",
]


def _is_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool | np.bool_)


def _is_real(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool | np.bool_)


def check_int(name: str, value: Any, *, minimum: int | None = None,
              maximum: int | None = None) -> int:
    """``value`` as a Python ``int`` (numpy integers accepted, ``bool`` rejected).

    Raises ``ValueError`` unless ``minimum <= value <= maximum`` (bounds optional).
    """
    if not _is_int(value):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    value = int(value)
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be an integer <= {maximum}, got {value}")
    return value


def check_real(name: str, value: Any, *, low: float | None = None, high: float | None = None,
               low_open: bool = False, high_open: bool = False,
               finite: bool = True) -> float:
    """``value`` as a Python ``float`` (any real scalar; ``bool`` and complex rejected).

    ``low``/``high`` bound it, closed unless ``low_open``/``high_open``; ``finite=False``
    admits infinities (never NaN).
    """
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value[()]
    if not _is_real(value):
        raise ValueError(f"{name} must be a real number, got {value!r}")
    value = float(value)
    if math.isnan(value) or (finite and math.isinf(value)):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    if low is not None and (value < low or (low_open and value == low)):
        raise ValueError(f"{name} must be {'>' if low_open else '>='} {low}, got {value!r}")
    if high is not None and (value > high or (high_open and value == high)):
        raise ValueError(f"{name} must be {'<' if high_open else '<='} {high}, got {value!r}")
    return value


def check_probability(name: str, value: Any, *, open_low: bool = False,
                      open_high: bool = False) -> float:
    """A probability in [0, 1] (either end may be excluded)."""
    return check_real(name, value, low=0.0, high=1.0, low_open=open_low, high_open=open_high)


def check_bool(name: str, value: Any) -> bool:
    """``value`` as a ``bool`` (Python or numpy booleans only)."""
    if not isinstance(value, bool | np.bool_):
        raise ValueError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def check_choice(name: str, value: Any, choices: Iterable[str]) -> str:
    """``value`` if it is one of ``choices`` (strings)."""
    choices = tuple(choices)
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, choices))}; "
                         f"got {value!r}")
    return value


def check_array(name: str, x: ArrayLike, *, ndim: int | Sequence[int] | None = None,
                shape: Sequence[int | None] | None = None, finite: bool = True,
                nonempty: bool = True, dtype: type = np.float64) -> np.ndarray:
    """``x`` as a numpy array of ``dtype`` (float64 by default), validated.

    Rejects complex input (rather than dropping the imaginary part), non-numeric input,
    the wrong number of axes (``ndim``: one value or several allowed), a wrong ``shape``
    (``None`` entries match any length), an empty array (unless ``nonempty=False``) and
    non-finite values (unless ``finite=False``).
    """
    try:
        raw = np.asarray(x)
    except (TypeError, ValueError) as e:  # ragged nested sequences
        raise ValueError(f"{name} must be an array of numbers: {e}") from None
    if raw.dtype.kind == "c":
        raise ValueError(f"{name} must be real, got a complex array")
    if raw.dtype.kind not in "biuf":
        try:
            raw = raw.astype(np.float64)
        except (TypeError, ValueError):
            raise ValueError(f"{name} must be an array of numbers, got dtype {raw.dtype}") \
                from None
    if raw.dtype.kind == "b" and np.dtype(dtype).kind != "b":
        raw = raw.astype(np.int64)
    allowed = (ndim,) if isinstance(ndim, int) else ndim
    if allowed is not None and raw.ndim not in allowed:
        want = " or ".join(map(str, allowed))
        raise ValueError(f"{name} must have {want} axes, got shape {raw.shape}")
    if shape is not None and (raw.ndim != len(shape) or any(
            s is not None and s != r for s, r in zip(shape, raw.shape, strict=True))):
        want = "(" + ", ".join("any" if s is None else str(s) for s in shape) + ")"
        raise ValueError(f"{name} must have shape {want}, got {raw.shape}")
    if nonempty and raw.size == 0:
        raise ValueError(f"{name} must not be empty")
    if np.dtype(dtype).kind in "iu" and raw.dtype.kind == "f":
        if not np.all(np.isfinite(raw)) or np.any(raw != np.round(raw)):
            raise ValueError(f"{name} must hold integers")
    a = raw.astype(dtype, copy=False)
    if finite and a.dtype.kind == "f" and not np.all(np.isfinite(a)):
        raise ValueError(f"{name} contains non-finite values")
    return a


def check_sizes(name: str, sizes: Any, *, minimum_length: int = 1) -> tuple[int, ...]:
    """A sequence of positive integers (layer widths, say) as a tuple of ``int``."""
    if isinstance(sizes, str | bytes) or not isinstance(sizes, Sequence | np.ndarray):
        raise ValueError(f"{name} must be a sequence of positive integers, got {sizes!r}")
    out = tuple(check_int(f"{name}[{i}]", s, minimum=1) for i, s in enumerate(sizes))
    if len(out) < minimum_length:
        raise ValueError(f"{name} must hold at least {minimum_length} sizes, got {out}")
    return out


def check_seed(seed: Any) -> int:
    """A seed: a non-negative integer."""
    return check_int("seed", seed, minimum=0)


def check_rng(rng: Any) -> np.random.Generator:
    """A ``numpy.random.Generator`` from ``rng``: a seed (int >= 0) or a Generator.

    A generator passed in is used as it is (and advanced by the caller's draws); a seed
    gives a fresh ``numpy.random.default_rng(seed)``.
    """
    if isinstance(rng, np.random.Generator):
        return rng
    if _is_int(rng):
        return np.random.default_rng(check_seed(rng))
    raise ValueError("rng must be a seed (integer >= 0) or a numpy.random.Generator, "
                     f"got {type(rng).__name__}")


def seeded_call(fn: Callable[..., Any], *args: Any) -> Any:
    """Call ``fn`` (wrapped in ``functools.lru_cache``) whose last argument is ``rng``.

    For a seed the cached function is called, so repeated calls share one result (which
    must therefore be immutable or copied by the caller); for a ``numpy.random.Generator``
    the undecorated function computes afresh.
    """
    *rest, rng = args
    if isinstance(rng, np.random.Generator):
        return fn.__wrapped__(*rest, rng)
    return fn(*rest, check_seed(rng) if _is_int(rng) else check_rng(rng))


def scalar_or_array(result: Any, *inputs: Any) -> float | np.ndarray:
    """``result`` as a ``float`` when every input is a scalar, else as a float64 array."""
    if all(np.ndim(x) == 0 for x in inputs):
        return float(np.asarray(result, dtype=np.float64))
    return np.asarray(result, dtype=np.float64)
