# Hidden Units: set-up, book builds and tests. Every target installs what it needs.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
JB     := $(VENV)/bin/jupyter-book
STAMP  := $(VENV)/.installed-stamp
# -W: warnings are errors; -n: nitpicky (broken references warn); --keep-going: report all.
JBFLAGS := -W -n --keep-going

.PHONY: help install html book-strict chapter test lint unit claims pdf clean lock

help:
	@echo "make html   build the website into _build/html (sets everything up first)"
	@echo "make test   lint, unit tests, every claim check, strict rebuild of the whole book"
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

test: lint unit book-strict

pdf: install
	@echo "The PDF edition is not wired up yet (see its issue)."; exit 1

# Re-pin requirements.lock from pyproject.toml (run after changing dependencies).
lock: install
	$(PY) -m pip freeze --all --exclude-editable | grep -v '^hiddenunits==' > requirements.lock

clean:
	rm -rf _build
