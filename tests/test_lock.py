"""The lock installs from the public index: exact pins, no local version labels."""

import re
import subprocess
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PIN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*==[0-9][A-Za-z0-9.!]*$")


def lock_lines() -> list[str]:
    return [ln for ln in (ROOT / "requirements.lock").read_text().splitlines() if ln.strip()]


def test_every_line_is_an_exact_pin_without_a_local_label():
    bad = [ln for ln in lock_lines() if not PIN.match(ln)]
    assert not bad, f"not a plain 'name==version' pin (a '+label' exists only locally): {bad}"


def test_torch_is_pinned_in_the_lock_and_ranged_in_the_project():
    assert "torch==2.13.0" in lock_lines()
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    torch = [d for d in deps if d.startswith("torch")]
    assert torch and "==" not in torch[0], f"pyproject should state a range: {torch}"


def test_make_lock_strips_local_labels():
    """Run the sed stage of the `make lock` recipe on what pip freeze writes here."""
    recipe = subprocess.run(["make", "-n", "-s", "lock", "STAMP=/dev/null"], cwd=ROOT,
                            capture_output=True, text=True, check=True).stdout
    script = re.search(r"sed -E '([^']+)'", recipe).group(1)
    frozen = "numpy==2.4.6\ntorch==2.13.0+cpu\nfoo==1.0+local.7\n"
    out = subprocess.run(["sed", "-E", script], input=frozen, capture_output=True, text=True,
                         check=True).stdout
    assert out.splitlines() == ["numpy==2.4.6", "torch==2.13.0", "foo==1.0"]
