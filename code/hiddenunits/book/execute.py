"""Execute the book's notebooks in parallel into the build's execution cache.

Jupyter Book 1 executes the pages one after another while Sphinx reads them.  This driver
runs first: it turns each page of the table of contents into a notebook exactly as
MyST-NB will (including the fingerprint cell of :mod:`hiddenunits.book.sphinxext`), looks
it up in the jupyter-cache project that the build uses (``_build/.jupyter_cache``), and
executes the missing ones concurrently, ``--jobs`` at a time.  The build that follows then
finds every page in the cache, so its strictness is unchanged: a failing cell fails here,
naming the page, and a page that failed is not cached, so the next build runs it again.

With ``--then BUILD...`` the driver also starts the build.  With one job it starts it after
the execution, so that one process works at a time (the sequential baseline).  With more,
it starts it at once, beside the kernels: Sphinx reads the pages that need no kernel (the
API appendix, the notation) while the chapters execute, and before it reads a page that is
still executing it waits for it (:mod:`hiddenunits.book.pending`).  A page that fails
stops the build, and the driver exits with an error that names the page.

``python -m hiddenunits.book.execute [--jobs N] [--only PAGE ...] [--root DIR]
[--then BUILD ...]``
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

import yaml

from hiddenunits.book.pending import ORDER_FILE, PENDING_ENV, marker

EXECUTED_KEY = "execution_seconds"


@dataclass(frozen=True)
class Page:
    """A page of the book that is a notebook."""

    docname: str
    """Path without suffix, relative to the book root (``book/rbm``)."""
    path: Path


def toc_pages(root: Path, toc: Path | None = None) -> list[str]:
    """Docnames listed in ``_toc.yml`` (jb-book format), in reading order."""
    data = yaml.safe_load((toc or root / "_toc.yml").read_text(encoding="utf-8"))
    names = [data["root"]]

    def walk(entries):
        for e in entries or ():
            if "file" in e:
                names.append(e["file"])
            walk(e.get("sections"))
            walk(e.get("chapters"))

    for part in data.get("parts", ()):
        walk(part.get("chapters"))
    walk(data.get("chapters"))
    return [str(Path(n).with_suffix("")) for n in names]


def md_config(root: Path):
    """The MyST parser configuration of the build (extensions from ``_config.yml``)."""
    from myst_parser.config.main import MdParserConfig

    config = yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8"))
    extensions = config.get("parse", {}).get("myst_enable_extensions", [])
    return MdParserConfig(enable_extensions=set(extensions))


def notebook_of(page: Page, config):
    """The page as MyST-NB reads it during the build (None if it is not a notebook)."""
    from myst_nb.core.read import is_myst_markdown_notebook, read_myst_markdown_notebook

    from hiddenunits.book.sphinxext import inject

    text = page.path.read_text(encoding="utf-8")
    if not is_myst_markdown_notebook(text) or "{code-cell}" not in text:
        return None
    text, _ = inject(text, page.docname)
    return read_myst_markdown_notebook(text, config=config, add_source_map=True,
                                       path=str(page.path))


def _execute(path: str, nb, timeout: int):
    """Run one notebook in a fresh kernel (in a worker process); return it and the outcome."""
    from jupyter_cache.executors.utils import single_nb_execution

    # the kernels' start-up notice about TCP is filtered by their profile (run() sets it)
    result = single_nb_execution(nb, cwd=str(Path(path).parent), timeout=timeout,
                                 allow_errors=False, meta_override=True)
    return result.nb, result.time, result.exc_string if result.err else None


def _build(then: list[str], pending: Path | None, stream) -> subprocess.Popen:
    """Start the build command, telling it where the markers of executing pages are."""
    env = dict(os.environ)
    if pending is not None:
        env[PENDING_ENV] = str(pending)
    print("== building: " + " ".join(then), file=stream, flush=True)
    return subprocess.Popen(then, env=env)


def run(root: Path, jobs: int, only: list[str] | None = None, timeout: int = 300,
        cache_dir: Path | None = None, stream=sys.stdout,
        then: list[str] | None = None) -> int:
    """Execute what the cache lacks; return 0 when every page is cached afterwards.

    With ``then`` (a command), also run the build: after the execution with one job,
    beside it with more (see the module's description).  Returns 0 only if every page
    executed and the build succeeded.
    """
    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn

    from hiddenunits.book.kernel import one_thread_kernels, quiet_kernels

    quiet_kernels(root / "_build")
    one_thread_kernels()
    cache = get_cache(str(cache_dir or root / "_build" / ".jupyter_cache"))
    config = md_config(root)
    todo = []
    for docname in toc_pages(root):
        if only and docname not in only and Path(docname).name not in only:
            continue
        page = Page(docname, root / f"{docname}.md")
        nb = notebook_of(page, config)
        if nb is None:
            continue
        try:
            record = cache.match_cache_notebook(nb)
            previous = record.data.get(EXECUTED_KEY, 0.0)
        except KeyError:
            todo.append((page, nb, _expected_cost(cache, page)))
            continue
        print(f"   cached    {docname} (executed in {previous:.1f} s)", file=stream)
    if not todo:
        return _build(then, None, stream).wait() if then else 0
    # longest first, so that the slowest page does not start last
    todo.sort(key=lambda t: t[2], reverse=True)
    print(f"== executing {len(todo)} page(s), {jobs} at a time: "
          + ", ".join(p.docname for p, _, _ in todo), file=stream, flush=True)
    pending = build = None
    if then and jobs > 1:
        pending = Path(tempfile.mkdtemp(prefix="hiddenunits-pending-"))
        for page, _, _ in todo:
            marker(pending, page.docname).write_text(str(os.getpid()), encoding="utf-8")
        (pending / ORDER_FILE).write_text("\n".join(p.docname for p, _, _ in todo),
                                          encoding="utf-8")
        build = _build(then, pending, stream)
    failed = []
    start = time.perf_counter()
    try:
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            futures = {pool.submit(_execute, str(p.path), nb, timeout): p
                       for p, nb, _ in todo}
            for future in as_completed(futures):
                page = futures[future]
                executed, seconds, error = future.result()
                if error is not None:
                    failed.append(page.docname)
                    if build is not None and build.poll() is None:
                        build.terminate()  # the build cannot succeed; the pages still run
                    print(f"FAILED     {page.docname} after {seconds:.1f} s:\n{error}",
                          file=stream, flush=True)
                else:
                    record = cache.add_nb_to_project(
                        str(page.path), read_data={"name": "myst_nb_md", "type": "plugin"})
                    cache.cache_notebook_bundle(
                        CacheBundleIn(executed, record.uri, data={EXECUTED_KEY: seconds}),
                        check_validity=False, overwrite=True)
                    print(f"   executed  {page.docname} in {seconds:.1f} s", file=stream,
                          flush=True)
                if pending is not None:
                    marker(pending, page.docname).unlink()
    except BaseException:  # an interrupt, or a worker that died: no build goes on alone
        if build is not None:
            build.terminate()
        raise
    finally:
        if pending is not None:
            shutil.rmtree(pending, ignore_errors=True)
    print(f"== executed {len(todo) - len(failed)} page(s) in "
          f"{time.perf_counter() - start:.1f} s wall time", file=stream, flush=True)
    if failed:
        if build is not None:
            build.wait()
        print(f"execution failed on: {', '.join(failed)}", file=stream)
        return 1
    if then and build is None:
        build = _build(then, None, stream)
    return build.wait() if build is not None else 0


def _expected_cost(cache, page: Page) -> tuple[float, int]:
    """What orders the pages to execute, the costliest first.

    First how long the page took when it was last cached; for a page never cached (a cold
    cache) that is 0, and the number of package modules it uses decides, a proxy for how
    much it computes: the ledger, which runs every check, first, and a short appendix last,
    so that no long page starts while the other worker has nothing left to do.
    """
    from hiddenunits.book.sphinxext import code_of, dependencies

    last = 0.0
    for record in cache.list_cache_records():
        if record.uri == str(page.path):
            last = max(last, float(record.data.get(EXECUTED_KEY, 0.0)))
    text = page.path.read_text(encoding="utf-8")
    return last, len(dependencies(code_of(text), page.docname))


def main(argv: list[str] | None = None) -> int:
    """``python -m hiddenunits.book.execute``: execute what the cache lacks (see :func:`run`)."""
    parser = argparse.ArgumentParser(prog="python -m hiddenunits.book.execute",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                        help="pages executed at once (default: the number of cores)")
    parser.add_argument("--root", type=Path, default=Path.cwd(), help="the book's root")
    parser.add_argument("--only", nargs="*", metavar="PAGE", help="only these pages")
    parser.add_argument("--timeout", type=int, default=300, help="seconds per cell")
    parser.add_argument("--cache", type=Path, default=None,
                        help="jupyter-cache folder (default: ROOT/_build/.jupyter_cache)")
    parser.add_argument("--then", nargs=argparse.REMAINDER, metavar="BUILD",
                        help="then run this build command (the rest of the line); with "
                             "more than one job it starts at once and waits for each "
                             "page it reads")
    args = parser.parse_args(argv)
    if args.jobs < 1:
        parser.error("--jobs must be at least 1")
    if args.then is not None and not args.then:
        parser.error("--then needs a command")
    return run(args.root.resolve(), args.jobs, args.only, args.timeout, args.cache,
               then=args.then)


if __name__ == "__main__":
    raise SystemExit(main())
