"""Quiet kernels for the build: drop ipykernel's start-up notice about unencrypted TCP.

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
