"""The command line: help, JSON output, and one-line errors with exit status 2."""

import json
import subprocess
import sys

import pytest

from hiddenunits.cli import main


def run(*args):
    return subprocess.run([sys.executable, "-m", "hiddenunits", *args], capture_output=True,
                          text=True, timeout=600)


@pytest.mark.parametrize("args", [[], ["run"], ["claims"], ["bench"], ["list"]])
def test_help_everywhere(args, capsys):
    with pytest.raises(SystemExit) as e:
        main([*args, "--help"])
    assert e.value.code == 0
    assert "usage:" in capsys.readouterr().out


@pytest.mark.parametrize("args, message", [
    (["run", "nine", "--out", "x"], "unknown chapter"),
    (["run", "1"], "--out"),
    (["claims", "--chapter", "0"], "unknown chapter"),
    (["frobnicate"], "invalid choice"),
    (["claims", "--bogus"], "unrecognized arguments"),
    (["bench", "nope"], "unknown benchmark"),
])
def test_bad_arguments_exit_2_with_one_line(args, message):
    r = run(*args)
    assert r.returncode == 2
    assert r.stdout == ""
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], r.stderr
    assert "Traceback" not in r.stderr


def test_unwritable_output_directory():
    # /proc refuses new directories even to root
    r = run("run", "1", "--out", "/proc/hiddenunits-out")
    assert r.returncode == 2 and "cannot create output directory" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_output_path_that_is_a_file(tmp_path):
    f = tmp_path / "file"
    f.write_text("")
    r = run("run", "1", "--out", str(f / "sub"))
    assert r.returncode == 2
    assert r.stderr.startswith("hiddenunits: error: cannot create output directory")


def test_claims_json_is_valid():
    r = run("claims", "--json")
    data = json.loads(r.stdout)
    assert isinstance(data, list)
    for item in data:
        assert {"id", "chapter", "method", "error", "tolerance", "passed", "seconds"} <= set(item)
    assert r.returncode == (0 if all(d["passed"] for d in data) else 1)
