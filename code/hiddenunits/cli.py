"""The book's command line: ``python -m hiddenunits`` or ``hiddenunits``."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from hiddenunits.chapters import CHAPTERS, get_chapter


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
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise UsageError(f"cannot create output directory {text!r}: {e.strerror}") from None
    if not out.is_dir() or not os.access(out, os.W_OK | os.X_OK):
        raise UsageError(f"output directory {text!r} is not writable")
    return out


def _print_claims(results, stream=sys.stdout) -> None:
    for r in results:
        mark = "ok  " if r.passed else "FAIL"
        print(f"{mark} {r.id:<42} {r.method:<11} error {r.error:9.2e} <= {r.tolerance:8.1e}"
              f"  ({r.seconds:.2f} s)", file=stream)


def _run_claims(chapter: str | None, progress: bool):
    from hiddenunits.claims import registered, run_claim

    claims = registered(chapter)
    results = []
    for i, c in enumerate(claims, 1):
        if progress:
            print(f"[{i}/{len(claims)}] checking {c.id} ...", file=sys.stderr, flush=True)
        results.append(run_claim(c.id))
    return results


def cmd_run(args) -> int:
    from hiddenunits.figures import registered, save

    out = _out_dir(args.out)
    chapter = get_chapter(args.chapter)
    print(f"Chapter {chapter.number}: {chapter.title}")
    specs = registered(chapter.key)
    for i, spec in enumerate(specs, 1):
        start = time.perf_counter()
        print(f"[{i}/{len(specs)}] drawing {spec.name} ...", end=" ", flush=True)
        paths = save(spec.make(), out, spec.name)
        print(f"{time.perf_counter() - start:.1f} s -> {', '.join(p.name for p in paths)}")
    results = _run_claims(chapter.key, progress=True)
    _print_claims(results)
    failed = sum(not r.passed for r in results)
    print(f"{len(specs)} figures written to {out}; {len(results) - failed} passed, "
          f"{failed} failed")
    return 1 if failed else 0


def cmd_claims(args) -> int:
    results = _run_claims(args.chapter, progress=not args.json)
    if args.json:
        json.dump([r.to_dict() for r in results], sys.stdout, indent=2)
        print()
    else:
        _print_claims(results)
        failed = sum(not r.passed for r in results)
        print(f"{len(results) - failed} passed, {failed} failed")
    return 1 if any(not r.passed for r in results) else 0


def cmd_bench(args) -> int:
    from hiddenunits.bench import registered

    benches = registered()
    if args.name not in benches:
        names = ", ".join(benches) or "none registered"
        raise UsageError(f"unknown benchmark {args.name!r}; choose one of: {names}")
    return benches[args.name][1]()


def cmd_list(args) -> int:
    from hiddenunits.claims import registered as claims
    from hiddenunits.figures import registered as figures

    for c in CHAPTERS:
        print(f"{c.number}  {c.key:<15} {c.title}  ({c.docname}.md)")
        for f in figures(c.key):
            print(f"     figure  {f.name}")
        for cl in claims(c.key):
            print(f"     claim   {cl.id}: {cl.statement}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    chapters = ", ".join(f"{c.number}/{c.key}" for c in CHAPTERS)
    parser = _Parser(prog="hiddenunits",
                     description="Run the code of 'Hidden Units': figures, checks, benchmarks.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = sub.add_parser("run", help="redraw a chapter's figures and run its checks",
                       description="Write the chapter's figures (PNG and PDF) into OUT and "
                                   "run its claim checks; exit 1 if a check fails.")
    p.add_argument("chapter", type=_chapter, help=f"chapter number or key ({chapters})")
    p.add_argument("--out", required=True, metavar="DIR", help="output directory")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("claims", help="run the claim checks",
                       description="Run the checks of every labelled claim; exit 1 if any "
                                   "fails.")
    p.add_argument("--chapter", type=_chapter, help=f"only this chapter ({chapters})")
    p.add_argument("--json", action="store_true", help="print a JSON list of results")
    p.set_defaults(func=cmd_claims)

    p = sub.add_parser("bench", help="run a benchmark",
                       description="Run a named benchmark and print its measurements.")
    p.add_argument("name", help="benchmark name (e.g. probes, rbm)")
    p.set_defaults(func=cmd_bench)

    p = sub.add_parser("list", help="list chapters, figures and claims")
    p.set_defaults(func=cmd_list)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except UsageError as e:
        print(f"hiddenunits: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("hiddenunits: interrupted", file=sys.stderr)
        return 130
