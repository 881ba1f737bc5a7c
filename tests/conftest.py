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


# Fixtures that are costly to make, and the test files that use them: each file runs on
# one xdist worker, so that the fixture is made once per test run.  (pytest-xdist 3.8's
# ``--dist loadgroup`` groups tests by rewriting their node ids, which pytest 9.2 ignores
# (pytest-dev/pytest-xdist#1386): the groups were silently spread over the workers, and a
# session- or module-scoped fixture was made once per worker.)
SHARED_FIXTURES = {
    "claim_results": ("tests/test_claims.py", "tests/test_cli.py"),  # each check runs once
    "fixture_site": ("tests/test_web_book.py",),  # the web edition's fixture book
}


def scope_of(nodeid: str) -> str:
    """The unit a test is scheduled in: its fixture's name, or the test alone."""
    path = nodeid.split("::", 1)[0]
    for fixture, files in SHARED_FIXTURES.items():
        if path in files:
            return fixture
    return nodeid


def pytest_xdist_make_scheduler(config, log):
    """``--dist loadgroup``: tests are scheduled in the units of :func:`scope_of`."""
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class SharedFixtureScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return scope_of(nodeid)

    return SharedFixtureScheduling(config, log)


def pytest_collection_modifyitems(config, items):
    """A test that uses a shared fixture must be in one of its files (SHARED_FIXTURES)."""
    for item in items:
        names = getattr(item, "fixturenames", ())
        for fixture, files in SHARED_FIXTURES.items():
            if fixture in names and item.nodeid.split("::", 1)[0] not in files:
                raise pytest.UsageError(
                    f"{item.nodeid} uses {fixture}: list its file in SHARED_FIXTURES")
