"""The book's command line: ``python -m hiddenunits`` or ``hiddenunits``.

``run`` redraws a chapter's figures and runs its checks, ``claims`` runs checks (all, one
chapter's, or named ones), ``bench`` runs a benchmark, ``list`` shows what there is.
Bad arguments give one line on stderr and exit status 2; a failing check exits with 1.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from hiddenunits import __version__
from hiddenunits.book.chapters import CHAPTERS, get_chapter


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line and exit with status 2."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message}\n")


class UsageError(Exception):
    """Bad input from the command line: reported in one line, exit status 2."""


def _chapter(text: str) -> str:
    try:
        return get_chapter(text).key
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def _out_dir(text: str) -> Path:
    out = Path(text)
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {text!r} names an existing file; give a directory")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise UsageError(f"cannot create output directory {text!r}: {e.strerror}") from None
    if not os.access(out, os.W_OK | os.X_OK):
        raise UsageError(f"output directory {text!r} is not writable")
    return out


def _run_claims(ids: list[str], progress: bool):
    from hiddenunits.book.claims import run_claim

    results = []
    for i, cid in enumerate(ids, 1):
        if progress:
            print(f"[{i}/{len(ids)}] checking {cid} ...", file=sys.stderr, flush=True)
        results.append(run_claim(cid))
    return results


def _report(results, as_json: bool) -> int:
    from hiddenunits.book.claims import describe_plain

    failed = sum(not r.passed for r in results)
    if as_json:
        json.dump([r.to_dict() for r in results], sys.stdout, indent=2)
        print()
    else:
        for r in results:
            print(describe_plain(r))
        print(f"{len(results) - failed} passed, {failed} failed")
    return 1 if failed else 0


def _claim_ids(labels: list[str], chapter: str | None) -> list[str]:
    from hiddenunits.book.claims import CLAIMS

    if not labels:
        return CLAIMS.names(chapter)
    ids = []
    for label in labels:
        if CLAIMS.find(label) is None:
            try:
                c = get_chapter(label)
            except ValueError:
                raise UsageError(f"no claim labelled {label!r}; 'hiddenunits list' shows "
                                 "the labels") from None
            raise UsageError(f"{label!r} is a chapter, not a claim label: to run chapter "
                             f"{c.number}'s checks use 'claims --chapter {label}'")
        ids.append(label)
    if chapter is not None:
        raise UsageError("give claim labels or --chapter, not both")
    return ids


def cmd_run(args) -> int:
    """``hiddenunits run CHAPTER --out DIR``: redraw a chapter's figures and run its checks."""
    from hiddenunits.book.figures import registered, save

    out = _out_dir(args.out)
    chapter = get_chapter(args.chapter)
    print(f"Chapter {chapter.number}: {chapter.title}")
    specs = registered(chapter.key)
    for i, spec in enumerate(specs, 1):
        start = time.perf_counter()
        print(f"[{i}/{len(specs)}] drawing {spec.name} ...", end=" ", flush=True)
        paths = save(spec.make(), out, spec.name)
        print(f"{time.perf_counter() - start:.1f} s -> {', '.join(p.name for p in paths)}")
    from hiddenunits.book.claims import CLAIMS

    results = _run_claims(CLAIMS.names(chapter.key), progress=True)
    status = _report(results, as_json=False)
    print(f"{len(specs)} figures written to {out}")
    return status


def cmd_claims(args) -> int:
    """``hiddenunits claims``: run the checks (all, of a chapter, or by label)."""
    ids = _claim_ids(args.labels, args.chapter)
    return _report(_run_claims(ids, progress=not args.json), args.json)


def cmd_bench(args) -> int:
    """``hiddenunits bench NAME``: run a benchmark named in a chapter."""
    from hiddenunits.book.bench import BENCHMARKS

    chapter = BENCHMARKS.find(args.name)
    if chapter is None:
        names = [d.name for c in CHAPTERS for d in BENCHMARKS.declared(c.key)]
        raise UsageError(f"unknown benchmark {args.name!r}; choose one of: "
                         f"{', '.join(names) or 'none registered'}")
    return BENCHMARKS.get(args.name).run()


def cmd_list(args) -> int:
    """``hiddenunits list``: the chapters with their figures, claims and benchmarks."""
    from hiddenunits.book.bench import BENCHMARKS
    from hiddenunits.book.claims import CLAIMS
    from hiddenunits.book.figures import FIGURES

    # read from the sources (no import of the science), so this answers at once
    for c in CHAPTERS:
        print(f"{c.number}  {c.key:<15} {c.title}  ({c.docname}.md)")
        for f in FIGURES.declared(c.key):
            print(f"     figure     {f.name}")
        for cl in CLAIMS.declared(c.key):
            print(f"     claim      {cl.name}: {cl.summary}")
        for b in BENCHMARKS.declared(c.key):
            print(f"     benchmark  {b.name}: {b.summary}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The command line's argument parser (one sub-command per ``cmd_*`` function)."""
    chapters = ", ".join(f"{c.number}/{c.key}" for c in CHAPTERS)
    parser = _Parser(prog="hiddenunits",
                     description="Run the code of 'Hidden Units': figures, checks, benchmarks.",
                     epilog="Chapters are named by number or key: " + chapters + ".")
    parser.add_argument("--version", action="version", version=f"hiddenunits {__version__}")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser, metavar="COMMAND")

    p = sub.add_parser("run", help="redraw a chapter's figures and run its checks",
                       description="Write the chapter's figures (PNG and PDF) into OUT, in "
                                   "book order, and run its claim checks; exit 1 if a check "
                                   "fails.")
    p.add_argument("chapter", type=_chapter, help=f"chapter number or key ({chapters})")
    p.add_argument("--out", required=True, metavar="DIR", help="output directory")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("claims", help="run the claim checks and their false variants",
                       description="Run the checks of labelled claims (all of them, one "
                                   "chapter's, or the labels given) with their false "
                                   "variants; exit 1 if any fails.")
    p.add_argument("labels", nargs="*", metavar="LABEL",
                   help="claim labels, e.g. thm-ssu-softplus (default: every claim)")
    p.add_argument("--chapter", type=_chapter, help=f"only this chapter ({chapters})")
    p.add_argument("--json", action="store_true", help="print a JSON list of results")
    p.set_defaults(func=cmd_claims)

    p = sub.add_parser("bench", help="run a benchmark",
                       description="Run a named benchmark and print its measurements "
                                   "('hiddenunits list' names them).")
    p.add_argument("name", help="benchmark name (e.g. probes, rbm)")
    p.set_defaults(func=cmd_bench)

    p = sub.add_parser("list", help="list chapters, figures, claims and benchmarks")
    p.set_defaults(func=cmd_list)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    try:
        return args.func(args)
    except UsageError as e:
        print(f"hiddenunits: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("hiddenunits: interrupted", file=sys.stderr)
        return 130
