"""The command line: help, version, listing, JSON output, and one-line errors with exit 2."""

import json
import resource
import subprocess
import sys
import time

import pytest

from hiddenunits import __version__
from hiddenunits.book import claims as claims_module
from hiddenunits.book.cli import main


def run(*args):
    return subprocess.run([sys.executable, "-m", "hiddenunits", *args], capture_output=True,
                          text=True, timeout=600)


@pytest.mark.parametrize("args", [[], ["run"], ["claims"], ["bench"], ["list"]])
def test_help_everywhere(args, capsys):
    with pytest.raises(SystemExit) as e:
        main([*args, "--help"])
    assert e.value.code == 0
    assert "usage:" in capsys.readouterr().out


def test_bare_command_prints_usage(capsys):
    assert main([]) == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: hiddenunits") and "claims" in out


def test_version(capsys):
    with pytest.raises(SystemExit) as e:
        main(["--version"])
    assert e.value.code == 0 and capsys.readouterr().out.strip() == f"hiddenunits {__version__}"


@pytest.mark.parametrize("args, message", [
    (["run", "nine", "--out", "x"], "unknown chapter"),
    (["run", "1"], "--out"),
    (["claims", "--chapter", "0"], "unknown chapter"),
    (["claims", "4"], "claims --chapter 4"),
    (["claims", "thm-nowhere"], "no claim labelled"),
    (["frobnicate"], "invalid choice"),
    (["claims", "--bogus"], "unrecognized arguments"),
    (["bench", "nope"], "unknown benchmark"),
])
def test_bad_arguments_exit_2_with_one_line(args, message):
    start = time.perf_counter()
    r = run(*args)
    assert time.perf_counter() - start < 5, "an error should not wait for imports"
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
    r = run("run", "1", "--out", str(f))
    assert r.returncode == 2 and "names an existing file" in r.stderr
    r = run("run", "1", "--out", str(f / "sub"))
    assert r.returncode == 2
    assert r.stderr.startswith("hiddenunits: error: cannot create output directory")


def test_list_is_fast_and_complete():
    # CPU time of the child, not wall time: the answer must not depend on the machine's load
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    r = run("list")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    assert r.returncode == 0 and cpu < 1.0, f"list took {cpu:.2f} s of CPU time"
    assert "claim      thm-angle-variance" in r.stdout
    assert "figure     fig_angle_density" in r.stdout
    assert "benchmark  probes" in r.stdout


def test_list_imports_no_science_stack():
    # why list is fast: it reads the registries' source, it does not import torch or numpy
    code = (
        "import sys, runpy; sys.argv = ['hiddenunits', 'list'];"
        "import contextlib, io\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    try: runpy.run_module('hiddenunits', run_name='__main__')\n"
        "    except SystemExit: pass\n"
        "print(sorted(m for m in ('torch', 'numpy', 'matplotlib', 'sympy') if m in sys.modules))"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert r.stdout.strip() == "[]", r.stdout


def _cached_run(claim_results):
    def run_claim(cid):
        return claim_results[cid]
    return run_claim


def test_claims_json_reports_every_claim_and_its_variants(monkeypatch, capsys, claim_results):
    monkeypatch.setattr(claims_module, "run_claim", _cached_run(claim_results))
    status = main(["claims", "--json"])
    data = json.loads(capsys.readouterr().out)
    assert [d["id"] for d in data] == [c.id for c in claims_module.registered()]
    for item in data:
        assert {"id", "chapter", "method", "error", "tolerance", "passed", "seconds",
                "variants", "margin"} <= set(item)
        assert item["variants"] and all({"description", "error", "rejected"} <= set(v)
                                        for v in item["variants"])
    assert status == (0 if all(d["passed"] for d in data) else 1)


def test_claims_exit_1_when_a_claim_fails(monkeypatch, capsys, claim_results):
    first = claims_module.registered()[0].id
    failed = claim_results[first].__class__(**{**claim_results[first].__dict__,
                                               "holds": False, "error": 1.0})
    monkeypatch.setattr(claims_module, "run_claim", lambda cid: failed)
    assert main(["claims", "--json", first]) == 1
    assert json.loads(capsys.readouterr().out)[0]["passed"] is False
    assert main(["claims", first]) == 1
    assert "FAIL" in capsys.readouterr().out


def test_one_claim_by_label(monkeypatch, capsys, claim_results):
    monkeypatch.setattr(claims_module, "run_claim", _cached_run(claim_results))
    assert main(["claims", "thm-angle-variance"]) == 0
    out = capsys.readouterr().out
    assert "thm-angle-variance" in out and "false variant" in out and "1 passed" in out
