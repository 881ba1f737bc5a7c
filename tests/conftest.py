"""Shared test helpers: every claim's check runs once per test session."""

import os

from hiddenunits.book.kernel import one_thread_kernels

# One thread for torch and BLAS in every test process, set before torch loads (the kernel
# module imports neither): the suite runs on as many pytest-xdist workers as there are
# cores, and OpenMP pools of two threads in each would oversubscribe them.
one_thread_kernels()
os.environ.setdefault("MPLBACKEND", "Agg")

import pytest  # noqa: E402

from hiddenunits.book.claims import run_claim as _run_claim  # noqa: E402


class ClaimResults:
    """Results of the claim checks, each computed the first time it is asked for."""

    def __init__(self):
        self._results = {}

    def __getitem__(self, claim_id):
        if claim_id not in self._results:
            # the function itself, not the module attribute that a test may monkeypatch
            self._results[claim_id] = _run_claim(claim_id)
        return self._results[claim_id]


_RESULTS = ClaimResults()


@pytest.fixture(scope="session")
def claim_results() -> ClaimResults:
    """The session's shared claim results (``claim_results[label]``)."""
    return _RESULTS


def pytest_collection_modifyitems(config, items):
    """Tests that read claim results share one xdist worker, so each check runs once."""
    for item in items:
        if "claim_results" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.xdist_group("claims"))
