"""The build's kernels: quiet, and one thread each.

Quiet: they drop ipykernel's start-up notice about unencrypted TCP (below).  One thread:
see :func:`one_thread_kernels`.

Every kernel that executes a chapter logs "Kernel is running over TCP without
encryption" on the build's stderr: a local kernel on the loopback interface, so the
notice is noise that hides the warnings that matter.  :func:`quiet_kernels` points
``IPYTHONDIR`` (read by every kernel started afterwards from this process: MyST-NB's,
the parallel executor's, a test's build) at a profile under the build folder whose kernel
configuration filters out that one message.  Every other kernel log line, and everything
a cell writes to stderr, is unchanged.  The profile also keeps a reader's own IPython
start-up files out of the build, so that it runs the same everywhere.
"""

from __future__ import annotations

import os
from pathlib import Path

NOISE = "running over TCP without encryption"

KERNEL_CONFIG = f'''\
# Written by hiddenunits.book.kernel for the book's build; do not edit.
import logging


class _DropUnencryptedTcpNotice(logging.Filter):
    """Drop ipykernel's notice that a local kernel talks over TCP (noise in the build)."""

    def filter(self, record):
        return {NOISE!r} not in record.getMessage()


logging.getLogger("IPKernelApp").addFilter(_DropUnencryptedTcpNotice())
c.HistoryManager.enabled = False  # noqa: F821 (``c`` is the config object)
'''


def quiet_kernels(build_dir: Path) -> Path:
    """Use the quiet kernel profile under ``build_dir`` from now on; return its folder."""
    folder = Path(build_dir).resolve() / ".ipython"
    config = folder / "profile_default" / "ipython_kernel_config.py"
    if not config.is_file() or config.read_text(encoding="utf-8") != KERNEL_CONFIG:
        config.parent.mkdir(parents=True, exist_ok=True)
        config.write_text(KERNEL_CONFIG, encoding="utf-8")
    os.environ["IPYTHONDIR"] = str(folder)
    return folder


THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")
"""Environment variables that set the threads of torch's and numpy's numerical libraries."""


def one_thread_kernels() -> dict[str, str]:
    """Start every later kernel with one thread for torch and BLAS; return what was set.

    The build executes as many chapters at once as there are cores, so a chapter that also
    ran its tensor and matrix code on every core would oversubscribe them; OpenMP's threads
    then wait for each other in busy loops.  On this book's small matrices a second thread
    gains little even on an idle machine, and under load (two chapters, or CI beside them)
    it costs a great deal: a loop of 64 x 64 matrix products took 2.3 s on one thread and
    85 s on two, with the machine's load average at 7.6.  Variables the user has set are
    left as they are.
    """
    changed = {}
    for name in THREAD_VARIABLES:
        if name not in os.environ:
            os.environ[name] = changed[name] = "1"
    return changed
