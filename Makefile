# Hidden Units: set-up, book builds and tests. Every target installs what it needs.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
JB     := $(VENV)/bin/jupyter-book
STAMP  := $(VENV)/.installed-stamp
# -W: warnings are errors; -n: nitpicky (broken references warn); --keep-going: report all.
JBFLAGS := -W -n --keep-going

.PHONY: help install html book-strict chapter test lint unit claims pdf tex-deps clean lock

help:
	@echo "make html   build the website into _build/html (sets everything up first)"
	@echo "make test   lint, unit tests, every claim check, strict rebuild of the whole book, PDF"
	@echo "make pdf    build the PDF edition into _build/latex"
	@echo "make clean  remove build outputs (keeps the virtual environment)"

$(STAMP): requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $@

install: $(STAMP)

# Incremental build: pages and chapters whose code or package modules changed re-run.
html: install
	$(JB) build . $(JBFLAGS)

# Re-read every page (the execution cache still serves unchanged chapters), so a page
# that failed before cannot pass silently on a rebuild.
book-strict: install
	$(JB) build . --all $(JBFLAGS)

# Build one chapter alone, strictly, in its own output folder (for writing a chapter):
#   make chapter CH=basis
chapter: install
	@test -n "$(CH)" || { echo "usage: make chapter CH=<basis|activations|separability|rbm|initialization>"; exit 2; }
	@test -f book/$(CH).md || { echo "no chapter book/$(CH).md"; exit 2; }
	@mkdir -p _build/dev/$(CH)
	@printf 'format: jb-book\nroot: book/$(CH)\nchapters:\n  - file: book/bibliography\n' > _build/dev/$(CH)/_toc.yml
	$(JB) build . --toc _build/dev/$(CH)/_toc.yml --path-output _build/dev/$(CH) $(JBFLAGS)

lint: install
	$(PY) -m ruff check code tests

unit: install
	$(PY) -m pytest

claims: install
	$(PY) -m hiddenunits claims

test: lint unit book-strict pdf

# The PDF edition: LaTeX through Jupyter Book's pdflatex builder (xelatex engine), then a
# gate that fails on undefined references or citations ("??"), missing glyphs or files.
TEX_PACKAGES := texlive-latex-recommended texlive-latex-extra texlive-fonts-recommended \
	texlive-xetex latexmk fonts-freefont-otf poppler-utils
PDF := _build/latex/hidden-units.pdf

tex-deps:
	@if command -v xelatex >/dev/null && command -v latexmk >/dev/null \
	    && command -v pdftotext >/dev/null && kpsewhich fncychap.sty >/dev/null \
	    && fc-list | grep -qi FreeSerif; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "Installing TeX Live (Debian packages: $(TEX_PACKAGES))"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(TEX_PACKAGES) >/dev/null; \
	else \
	  echo "TeX Live is missing. Install it with:"; \
	  echo "  sudo apt-get install $(TEX_PACKAGES)"; exit 1; \
	fi

pdf: install tex-deps
	$(JB) build . --builder pdflatex $(JBFLAGS)
	$(PY) -m hiddenunits.book.pdfcheck _build/latex/hidden-units.log $(PDF)
	@if [ -d _build/html/_static ]; then cp $(PDF) _build/html/_static/hidden-units.pdf; fi
	@echo "PDF: $(PDF) ($$(pdfinfo $(PDF) | awk '/^Pages/ {print $$2}') pages)"

# Re-pin requirements.lock from pyproject.toml (run after changing dependencies).
lock: install
	$(PY) -m pip freeze --all --exclude-editable | grep -v '^hiddenunits==' > requirements.lock

clean:
	rm -rf _build
