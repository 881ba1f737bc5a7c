"""limited_threads sets and restores torch's and the BLAS pools' thread counts."""

import os
import subprocess
import sys

import pytest
import torch
from threadpoolctl import threadpool_info

from hiddenunits.threads import limited_threads


@pytest.fixture
def two_threads():
    """Two threads outside the limit (the test session itself runs on one, conftest.py),
    so that "restored" differs from "limited"."""
    from threadpoolctl import threadpool_limits

    old = torch.get_num_threads()
    torch.set_num_threads(2)
    with threadpool_limits(2):
        yield
    torch.set_num_threads(old)


def test_limits_inside_and_restores_after(two_threads):
    assert torch.get_num_threads() == 2
    before_torch = torch.get_num_threads()
    before_blas = [d["num_threads"] for d in threadpool_info()]
    with limited_threads(1):
        assert torch.get_num_threads() == 1
        assert all(d["num_threads"] == 1 for d in threadpool_info())
    assert torch.get_num_threads() == before_torch
    assert [d["num_threads"] for d in threadpool_info()] == before_blas


def test_restores_after_an_exception_and_works_as_decorator(two_threads):
    before = torch.get_num_threads()
    assert before == 2

    @limited_threads()
    def inner():
        assert torch.get_num_threads() == 1
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        inner()
    assert torch.get_num_threads() == before


@pytest.mark.parametrize("n", [0, -1, 1.5, True])
def test_bad_thread_count(n):
    with pytest.raises(ValueError):
        with limited_threads(n):
            pass


def test_pools_loaded_after_first_use_are_limited_too():
    # a fresh interpreter: use limited_threads before scikit-learn brings its OpenMP pool
    code = """
from threadpoolctl import threadpool_info
from hiddenunits.threads import limited_threads
with limited_threads(1):
    pass
import sklearn.cluster  # loads scikit-learn's OpenMP runtime
with limited_threads(1):
    counts = [d["num_threads"] for d in threadpool_info()]
print(len(counts), max(counts))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    n_pools, most = map(int, out.stdout.split())
    assert n_pools >= 2 and most == 1, out.stdout


def test_book_kernels_start_with_one_thread_unless_the_user_chose(monkeypatch):
    from hiddenunits.book.kernel import THREAD_VARIABLES, one_thread_kernels

    for name in THREAD_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    changed = one_thread_kernels()
    assert os.environ["OMP_NUM_THREADS"] == "3"  # the user's choice stands
    assert changed == {"MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    assert all(os.environ[name] == "1" for name in changed)
