"""``python -m hiddenunits``: the book's command line."""

from hiddenunits.cli import main

raise SystemExit(main())
