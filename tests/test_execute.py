"""The book's parallel executor: cache, failures, and the build that runs beside it."""

import os
import subprocess
import sys
import threading
import time
from io import StringIO
from pathlib import Path

import pytest

from hiddenunits.book import execute, pending

FRONT = """---
jupytext:
  text_representation:
    extension: .md
    format_name: myst
kernelspec:
  display_name: Python 3
  language: python
  name: python3
---

# Page {name}

```{{code-cell}} ipython3
{code}
```
"""

# The build command of these tests: for each page, whether it was still executing when
# the build started (checked first, for all pages), then wait for it as the Sphinx
# extension does, and see it cached.
PROBE = """
import json, os, sys
from pathlib import Path
from jupyter_cache import get_cache
from hiddenunits.book import pending as protocol
pending = os.environ.get(protocol.PENDING_ENV)
cache = get_cache(sys.argv[1])
report = {"pending": pending is not None}
docnames = sys.argv[3:]
was = {d: pending is not None and protocol.marker(Path(pending), d).exists() for d in docnames}
for docname in docnames:
    protocol.wait_for_page(docname)
    cached = any(r.uri.endswith(docname + ".md") for r in cache.list_cache_records())
    report[docname] = [was[docname], cached]
Path(sys.argv[2]).write_text(json.dumps(report))
"""


def make_book(root: Path, pages: dict[str, str]) -> Path:
    (root / "book").mkdir(parents=True)
    (root / "_config.yml").write_text("parse:\n  myst_enable_extensions: [dollarmath]\n")
    toc = "format: jb-book\nroot: book/intro\nchapters:\n"
    (root / "book" / "intro.md").write_text("# Intro\n")
    for name, code in pages.items():
        (root / "book" / f"{name}.md").write_text(FRONT.format(name=name, code=code))
        toc += f"  - file: book/{name}\n"
    (root / "_toc.yml").write_text(toc)
    return root


def probe(tmp_path, *docnames):
    script = tmp_path / "probe.py"
    script.write_text(PROBE)
    return [sys.executable, str(script), str(tmp_path / "cache"), str(tmp_path / "report.json"),
            *docnames]


def report(tmp_path):
    import json

    return json.loads((tmp_path / "report.json").read_text())


def test_wait_returns_at_once_outside_a_build(monkeypatch):
    monkeypatch.delenv(pending.PENDING_ENV, raising=False)
    assert pending.wait_for_page("book/rbm") is False
    with pytest.raises(ValueError, match="poll must be a positive"):
        pending.wait_for_page("book/rbm", poll=0)


def test_reading_order_puts_kernel_free_pages_first(tmp_path, monkeypatch):
    docs = ["book/activations", "book/api", "book/basis", "book/notation", "book/rbm"]
    monkeypatch.delenv(pending.PENDING_ENV, raising=False)
    assert pending.reading_order(docs) == docs
    monkeypatch.setenv(pending.PENDING_ENV, str(tmp_path))
    assert pending.reading_order(docs) == docs  # no order written: unchanged
    (tmp_path / pending.ORDER_FILE).write_text("book/rbm\nbook/activations\nbook/basis")
    assert pending.reading_order(docs) == ["book/api", "book/notation", "book/rbm",
                                           "book/activations", "book/basis"]


def test_wait_holds_while_the_marker_exists(tmp_path, monkeypatch):
    monkeypatch.setenv(pending.PENDING_ENV, str(tmp_path))
    mark = pending.marker(tmp_path, "book/rbm")
    mark.write_text(str(os.getpid()))
    threading.Timer(0.5, mark.unlink).start()
    start = time.perf_counter()
    assert pending.wait_for_page("book/rbm", poll=0.02) is True
    assert time.perf_counter() - start >= 0.4
    # another page has no marker: no wait
    assert pending.wait_for_page("book/basis") is False


def test_wait_stops_when_the_executor_is_gone(tmp_path, monkeypatch):
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    monkeypatch.setenv(pending.PENDING_ENV, str(tmp_path))
    pending.marker(tmp_path, "book/rbm").write_text(done.stdout.strip())
    start = time.perf_counter()
    pending.wait_for_page("book/rbm", poll=0.02)
    assert time.perf_counter() - start < 1


@pytest.mark.slow
def test_build_starts_beside_the_kernels_and_waits_for_each_page(tmp_path):
    book = make_book(tmp_path / "b", {"quick": "x = 1",
                                      "slow": "import time\ntime.sleep(3)"})
    out = StringIO()
    code = execute.run(book, jobs=2, cache_dir=tmp_path / "cache", stream=out,
                       then=probe(tmp_path, "book/quick", "book/slow"))
    assert code == 0, out.getvalue()
    seen = report(tmp_path)
    assert seen["pending"] is True
    assert seen["book/slow"] == [True, True]  # executing when the build began; then cached
    assert seen["book/quick"][1] is True
    assert "executed  book/slow" in out.getvalue()


@pytest.mark.slow
def test_one_job_builds_after_the_execution(tmp_path):
    book = make_book(tmp_path / "b", {"quick": "x = 1"})
    out = StringIO()
    code = execute.run(book, jobs=1, cache_dir=tmp_path / "cache", stream=out,
                       then=probe(tmp_path, "book/quick"))
    assert code == 0, out.getvalue()
    assert report(tmp_path) == {"pending": False, "book/quick": [False, True]}
    # nothing left to execute: the build alone runs, and its exit status is returned
    out = StringIO()
    assert execute.run(book, jobs=2, cache_dir=tmp_path / "cache", stream=out,
                       then=[sys.executable, "-c", "raise SystemExit(3)"]) == 3
    assert "cached    book/quick" in out.getvalue()


@pytest.mark.slow
def test_failing_page_stops_the_build_and_is_named(tmp_path):
    book = make_book(tmp_path / "b", {"good": "x = 1", "bad": "1 / 0"})
    out = StringIO()
    start = time.perf_counter()
    code = execute.run(book, jobs=2, cache_dir=tmp_path / "cache", stream=out,
                       then=[sys.executable, "-c", "import time; time.sleep(120)"])
    assert code == 1
    assert time.perf_counter() - start < 60  # the waiting build was stopped
    text = out.getvalue()
    assert "FAILED     book/bad" in text and "ZeroDivisionError" in text
    assert "execution failed on: book/bad" in text
    # the good page is cached, the failing one is not, so the next run tries it again
    again = StringIO()
    assert execute.run(book, jobs=2, cache_dir=tmp_path / "cache", stream=again) == 1
    assert "cached    book/good" in again.getvalue()
    assert "executing 1 page(s)" in again.getvalue()


def test_then_needs_a_command(capsys):
    with pytest.raises(SystemExit):
        execute.main(["--then"])
    assert "--then needs a command" in capsys.readouterr().err


def test_cold_pages_are_ordered_by_the_modules_they_use(tmp_path):
    from jupyter_cache import get_cache

    book = make_book(tmp_path / "b", {"light": "x = 1",
                                      "heavy": "from hiddenunits import probes, rbm"})
    cache = get_cache(str(tmp_path / "cache"))
    light, heavy = (execute._expected_cost(cache, execute.Page(f"book/{n}", book / "book" /
                                                               f"{n}.md"))
                    for n in ("light", "heavy"))
    assert light == (0.0, 0) and heavy[0] == 0.0 and heavy[1] >= 2
    assert sorted([light, heavy], reverse=True)[0] == heavy


def _broken_worker(*args):
    raise RuntimeError("worker died")


def test_an_error_in_the_driver_stops_the_build(tmp_path, monkeypatch):
    book = make_book(tmp_path / "b", {"page": "x = 1"})
    started = []
    real_build = execute._build

    def build(then, folder, stream):
        started.append(real_build(then, folder, stream))
        return started[-1]

    monkeypatch.setattr(execute, "_build", build)
    monkeypatch.setattr(execute, "_execute", _broken_worker)
    with pytest.raises(RuntimeError, match="worker died"):
        execute.run(book, jobs=2, cache_dir=tmp_path / "cache", stream=StringIO(),
                    then=[sys.executable, "-c", "import time; time.sleep(120)"])
    assert started and started[0].wait(timeout=30) != 0  # terminated, not left running
