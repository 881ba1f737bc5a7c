"""``python -m hiddenunits``: the book's command line (:mod:`hiddenunits.book.cli`)."""

from hiddenunits.book.cli import main

raise SystemExit(main())
