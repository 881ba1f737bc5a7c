# Hidden Units: set-up, book builds and tests. Every target installs what it needs.
# bash with pipefail: a failing command in a pipeline fails its recipe
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
JB     := $(VENV)/bin/jupyter-book
STAMP  := $(VENV)/.installed-stamp
# Where torch comes from. Empty: the package index (PyPI), as pinned in requirements.lock;
# on Linux that is PyTorch's CUDA build (about 3 GB with its nvidia-* packages). For the
# CPU-only build: make html TORCH_INDEX=https://download.pytorch.org/whl/cpu
TORCH_INDEX ?=
TORCH_VERSION := $(shell sed -n 's/^torch==//p' requirements.lock)
# -W: warnings are errors; -n: nitpicky (broken references warn); --keep-going: report all.
JBFLAGS := -W -n --keep-going
# Pages executed at once (the chapters run single-threaded): one per core by default.
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
EXECUTE := $(PY) -m hiddenunits.book.execute --jobs $(JOBS)
# EDITION=student builds the site without exercise solutions, into _build/student.
EDITION ?= full
ifeq ($(EDITION),student)
HTML_OUT := --path-output _build/student
HTML_DONE := _build/student/_build/html/.hiddenunits-built
else ifneq ($(EDITION),full)
$(error EDITION must be full or student, not '$(EDITION)')
endif
HTML_DONE ?= _build/html/.hiddenunits-built
PDF := _build/latex/hidden-units.pdf
# Everything a site build reads: a no-change make html is then a look at these dates.
# (The PDF too, once built: the preface links it only when it exists.)
BOOK_INPUTS := $(shell find book code/hiddenunits -type f ! -path '*/__pycache__/*' \
	! -name '*.pyc' 2>/dev/null) _config.yml _toc.yml Makefile $(wildcard $(PDF))

.PHONY: help install html book-strict chapter test lint unit claims pdf tex-deps clean lock \
	lock-check site browser-deps robust

help:
	@echo "make html   build the website into _build/html (sets everything up first)"
	@echo "make html EDITION=student   the student edition (no solutions), in _build/student"
	@echo "make test   lint, unit tests, every claim check, PDF, strict rebuild of the book, browser test"
	@echo "make pdf    build the PDF edition into _build/latex"
	@echo "make site   browser test of the built site (screenshots in _build/screenshots)"
	@echo "make clean  remove build outputs (keeps the virtual environment)"
	@echo "make lock-check  check that requirements.lock installs from the public index"
	@echo "make robust  execute every page on another floating-point path (as another machine would)"

$(STAMP): requirements.lock pyproject.toml
	@echo "== Set-up: virtual environment $(VENV) from requirements.lock (first time: a few minutes)"
	$(PYTHON) -m venv $(VENV)
	@if [ -n "$(TORCH_INDEX)" ]; then \
	  echo "== Set-up: torch $(TORCH_VERSION) from $(TORCH_INDEX)"; \
	  $(PY) -m pip install --disable-pip-version-check "torch==$(TORCH_VERSION)" \
	    --index-url "$(TORCH_INDEX)"; fi
	@echo "== Set-up: installing $$(grep -c == requirements.lock) pinned packages"
	$(PY) -m pip install --disable-pip-version-check --progress-bar on -r requirements.lock \
	  | { grep -v '^Requirement already satisfied' || true; }
	@$(PY) -c "import torch, sphinx, myst_nb" || { echo "set-up failed (see above)"; exit 1; }
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	@echo "== Set-up done"
	touch $@

install: $(STAMP)

# Incremental build: pages whose code or package modules changed are executed again, in
# parallel (JOBS at a time), into the execution cache; Sphinx builds from the cache. With
# JOBS=1 it starts after the execution; with more, at once, and waits for each page that is
# still executing before it reads it (hiddenunits.book.execute --then).
# When no input has changed since the last build that succeeded, there is nothing to do.
html: $(HTML_DONE)
	@echo "site: $(dir $(HTML_DONE))index.html"

$(HTML_DONE): $(STAMP) $(BOOK_INPUTS)
	@$(EXECUTE) --then env HIDDENUNITS_EDITION=$(EDITION) \
	  $(JB) build . $(HTML_OUT) $(JBFLAGS)
	@touch $@

# Re-read every page (the execution cache still serves unchanged chapters), so a page
# that failed before cannot pass silently on a rebuild.
book-strict: install
	@$(EXECUTE) --then $(JB) build . --all $(JBFLAGS)
	@touch _build/html/.hiddenunits-built

# Build one chapter alone, strictly, in its own output folder (for writing a chapter);
# WITH names other pages it refers to, built with it:
#   make chapter CH=rbm WITH="separability notation"
chapter: install
	@test -n "$(CH)" || { echo "usage: make chapter CH=<basis|activations|separability|rbm|initialization> [WITH=...]"; exit 2; }
	@for p in $(CH) $(WITH); do test -f book/$$p.md || { echo "no page book/$$p.md"; exit 2; }; done
	@mkdir -p _build/dev/$(CH)
	@{ printf 'format: jb-book\nroot: book/$(CH)\nchapters:\n'; \
	  for p in $(WITH) bibliography; do printf '  - file: book/%s\n' $$p; done; } \
	  > _build/dev/$(CH)/_toc.yml
	@$(EXECUTE) --only book/$(CH) $(addprefix book/,$(WITH)) \
	  --cache _build/dev/$(CH)/_build/.jupyter_cache
	$(JB) build . --toc _build/dev/$(CH)/_toc.yml --path-output _build/dev/$(CH) $(JBFLAGS)

# Do the chapters' conclusions survive another machine? Every page executed with the
# portable kernels of MKL, ATen and OpenBLAS (x86): the results differ in the last bits, as
# on a machine with other vector units, and training turns that into other networks, as a
# change of seed would. A page that fails here states something its seeds cannot carry.
# Its own cache, so that the book's is untouched; about twice as slow as make html.
robust: install
	@MKL_CBWR=COMPATIBLE ATEN_CPU_CAPABILITY=default OPENBLAS_CORETYPE=Haswell \
	  $(EXECUTE) --cache _build/robust/.jupyter_cache

lint: install
	$(PY) -m ruff check code tests

# The quick loop: unit tests and every claim check, without the tests marked slow.
# PYTEST_JOBS workers (pytest-xdist); the claim checks and the tests that read all of
# their results share one worker, so that each check runs once per test run.
PYTEST_JOBS ?= $(JOBS)
PYTEST := $(PY) -m pytest -n $(PYTEST_JOBS) --dist loadgroup
unit: install
	$(PYTEST) -m "not slow and not site"

claims: install
	$(PY) -m hiddenunits claims

# Everything: lint, every test (slow ones included), the PDF, then the strict rebuild of
# the site (which links the PDF), and the browser test of that site last.
test: lint
	$(PYTEST) -m "not site"
	$(MAKE) pdf book-strict site

# The PDF edition: LaTeX through Jupyter Book's pdflatex builder (xelatex engine), then a
# gate that fails on undefined references or citations ("??"), missing glyphs or files.
TEX_PACKAGES := texlive-latex-recommended texlive-latex-extra texlive-fonts-recommended \
	texlive-xetex latexmk fonts-freefont-otf poppler-utils

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
	@$(EXECUTE) --then $(JB) build . --builder pdflatex $(JBFLAGS)
	$(PY) -m hiddenunits.book.pdfcheck _build/latex/hidden-units.log $(PDF)
	@echo "PDF: $(PDF) ($$(pdfinfo $(PDF) | awk '/^Pages/ {print $$2}') pages)"
	@if [ -d _build/html ]; then echo "(the next make html links it from the site)"; fi

# The browser test of the built site: Debian's chromium and chromedriver driven by
# Selenium (pinned in requirements.lock), axe-core from the npm registry into _build/axe
# (never into the site). Installs what is missing when run as root, else says how.
AXE_VERSION := 4.14.1
AXE := _build/axe/node_modules/axe-core/axe.min.js
BROWSER_PACKAGES := chromium chromium-driver

browser-deps:
	@missing=""; \
	for p in $(BROWSER_PACKAGES); do \
	  case $$p in chromium) b=/usr/bin/chromium;; chromium-driver) b=/usr/bin/chromedriver;; esac; \
	  [ -x $$b ] || missing="$$missing $$p"; done; \
	command -v npm >/dev/null || missing="$$missing npm"; \
	if [ -z "$$missing" ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "Installing$$missing (Debian packages)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	    $$missing >/dev/null; \
	else \
	  echo "Missing:$$missing. Install with:"; \
	  echo "  sudo apt-get install$$missing"; exit 1; \
	fi
	@test -f $(AXE) || npm install --silent --no-audit --no-fund --prefix _build/axe \
	  axe-core@$(AXE_VERSION)

site: install browser-deps
	@start=$$(date +%s); \
	$(PY) -m pytest -m site tests/test_site.py; status=$$?; \
	echo "browser test: $$(( $$(date +%s) - start )) s (per pass: _build/screenshots/timing.txt)"; \
	exit $$status

# Re-pin requirements.lock from the environment (run after changing dependencies). Local
# version labels (torch==2.13.0+cpu) exist only on the index that built them: strip them,
# so that the lock installs from the public index (==2.13.0 still matches 2.13.0+cpu).
lock: install
	$(PY) -m pip freeze --all --exclude-editable | grep -v '^hiddenunits==' \
	  | sed -E 's/\+[A-Za-z0-9.]+$$//' > requirements.lock

# Does requirements.lock resolve on the public index alone, for every supported platform?
# Ignores this machine's pip configuration (local wheel folders, constraints); needs only
# the package index. About a minute; CI runs it after the tests.
LOCK ?= requirements.lock
LOCK_PLATFORMS := linux-x86_64 linux-aarch64 macos-arm64 windows-amd64
lock-check:
	@for p in $(LOCK_PLATFORMS); do \
	  case $$p in \
	    linux-x86_64)  tags="manylinux_2_28_x86_64 manylinux_2_27_x86_64 manylinux_2_17_x86_64 manylinux2014_x86_64";; \
	    linux-aarch64) tags="manylinux_2_28_aarch64 manylinux_2_27_aarch64 manylinux_2_17_aarch64 manylinux2014_aarch64";; \
	    macos-arm64)   tags="macosx_14_0_arm64 macosx_12_0_arm64 macosx_11_0_arm64 macosx_10_9_universal2";; \
	    windows-amd64) tags="win_amd64";; \
	  esac; \
	  args=""; for t in $$tags; do args="$$args --platform $$t"; done; \
	  echo "== lock-check: $(LOCK) on $$p, Python 3.11.0, public index only"; \
	  tmp=$$(mktemp -d); \
	  PIP_CONFIG_FILE=/dev/null $(PYTHON) -m pip install --isolated --dry-run --no-deps \
	    --ignore-installed --only-binary=:all: --python-version 3.11.0 --implementation cp \
	    $$args --target "$$tmp" -r $(LOCK) --quiet --disable-pip-version-check \
	    || { rm -rf "$$tmp"; exit 1; }; rm -rf "$$tmp"; \
	done; echo "lock-check: $(LOCK) resolves on $(LOCK_PLATFORMS)"

clean:
	rm -rf _build
