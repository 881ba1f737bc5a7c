"""The built site in a real browser: Debian's chromium and chromedriver, driven by Selenium.

Every page of the site (``_build/html``, or ``HIDDENUNITS_SITE``) is opened once from disk
in headless Chromium, by two browsers in parallel.  Each page is looked at in the light
theme at desktop width (1280 px), then, without reloading, at 400 px, and the chapters
also in the dark theme; on every page:

* no console error;
* no request outside the build folder (the browser blocks the network, and records what
  a page asked for);
* every image loaded;
* every formula typeset by MathJax: no MathJax error, no ``\\(``, ``\\[`` or ``$$`` left
  in the text;
* every internal link and anchor resolves (read from the HTML files);
* no serious or critical violation reported by axe-core (from the npm registry into
  ``_build/axe``, injected into the page by the test, never part of the site), on every
  page but the source listings ``_modules/...``: these are one template around
  highlighted code, so axe-core checks their index and a fixed sample (the largest and
  the smallest listing) instead of all of them;
* formulas fit their column: at desktop width every formula fits; at 400 px a formula
  may be wider than its column only inside a scrolling box of its own that fits the
  column and reaches all of it (the reader scrolls the formula, nothing is cut off).

Screenshots of each chapter in light mode, dark mode and at 400 px are written to
``_build/screenshots``, with the time the pass took (``timing.txt``).  Each kind of
defect is injected into a copy of a page, and the check is shown to catch it.

The tests are marked ``site``: ``make site`` runs them after the book is built (``make
test`` does); without a built site they are skipped.  ``make browser-deps`` installs
chromium, chromedriver (Debian) and axe-core (npm).
"""

from __future__ import annotations

import json
import os
import queue
import re
import shutil
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[1]
SITE = Path(os.environ.get("HIDDENUNITS_SITE", ROOT / "_build" / "html")).resolve()
SHOTS = ROOT / "_build" / "screenshots"
AXE = ROOT / "_build" / "axe" / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
DESKTOP = (1280, 1000)
PHONE = (400, 860)
BROWSERS = 2
CHAPTER_DIR = "book"
SOURCES = "_modules"

pytestmark = pytest.mark.site


def _site_pages(site: Path) -> list[Path]:
    """Every HTML page of the site but the root redirect."""
    return sorted(p for p in site.rglob("*.html")
                  if p != site / "index.html"
                  and not {"_sources", "_static"} & set(p.relative_to(site).parts))


def _chapters(site: Path) -> list[Path]:
    """Chapter pages: those that offer an executed notebook for download."""
    return [p for p in _site_pages(site)
            if (site / "_notebooks" / p.relative_to(site).with_suffix(".ipynb")).is_file()]


def _axe_pages(site: Path, pages: list[Path]) -> set[Path]:
    """The pages axe-core checks: all but the source listings, of which a fixed sample."""
    listings = sorted((p for p in pages if p.relative_to(site).parts[0] == SOURCES
                       and p.name != "index.html"), key=lambda p: (p.stat().st_size, p))
    sample = {listings[0], listings[-1]} if listings else set()
    return {p for p in pages if p.relative_to(site).parts[0] != SOURCES
            or p.name == "index.html"} | sample


# --------------------------------------------------------------------------- browser
def _require_browser():
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not Path(p).is_file()]
    if missing:
        pytest.fail(f"{', '.join(missing)} missing: run `make browser-deps`")
    if not AXE.is_file():
        pytest.fail(f"{AXE} missing: run `make browser-deps`")


def _driver(profile: Path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--allow-file-access-from-files",
                 f"--user-data-dir={profile}", f"--window-size={DESKTOP[0]},{DESKTOP[1]}",
                 "--hide-scrollbars"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(300)
    # axe-core on the API appendix takes about a minute, several on a loaded machine; the
    # HTTP client's own timeout (120 s) must not cut it short
    driver.set_script_timeout(900)
    driver.command_executor.client_config.timeout = 900
    driver.execute_cdp_cmd("Network.enable", {})
    # nothing leaves the machine; a page's attempts are still recorded
    driver.execute_cdp_cmd("Network.setBlockedURLs",
                           {"urls": ["http://*", "https://*", "ws://*", "wss://*", "ftp://*"]})
    return driver


def _view(driver, size: tuple[int, int], dark: bool, height: int | None = None) -> None:
    width = size[0]
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": width, "height": height or size[1],
                            "deviceScaleFactor": 1, "mobile": width < 600})
    driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": [
        {"name": "prefers-color-scheme", "value": "dark" if dark else "light"}]})


# --------------------------------------------------------------------------- one page
_READY = """
const done = arguments[arguments.length - 1];
const settle = () => setTimeout(() => done(true), 100);
if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
  MathJax.startup.promise.then(settle, settle);
} else { settle(); }
"""

# after a change of size or theme: the layout is redone by the next frames
_RELAID = """
const done = arguments[arguments.length - 1];
requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(() => done(true), 50)));
"""

_DARK = """
document.documentElement.dataset.mode = 'dark';
document.documentElement.dataset.theme = 'dark';
"""

_INSPECT = r"""
const scrolling = arguments[0];  // may a formula wider than its column scroll in its box?
const out = {broken_images: [], raw_math: [], math_errors: [], untypeset: [], too_wide: []};
for (const img of document.images) {
  if (!(img.complete && img.naturalWidth > 0)) out.broken_images.push(img.getAttribute('src'));
}
const article = document.querySelector('.bd-article') || document.body;
const skip = 'pre, code, script, style, textarea, mjx-container, .highlight';
const walker = document.createTreeWalker(article, NodeFilter.SHOW_TEXT);
while (walker.nextNode()) {
  const node = walker.currentNode;
  if (node.parentElement && node.parentElement.closest(skip)) continue;
  const m = node.nodeValue.match(/\\\(|\\\[|\$\$|\$[^$\s][^$]*\\[a-zA-Z]+[^$]*\$/);
  if (m) out.raw_math.push(node.nodeValue.trim().slice(0, 80));
}
for (const e of document.querySelectorAll('mjx-merror, [data-mjx-error]')) {
  out.math_errors.push((e.getAttribute('data-mjx-error') || e.textContent).slice(0, 80));
}
for (const e of article.querySelectorAll('.math')) {
  if (!e.querySelector('mjx-container') && !e.closest('mjx-container')) {
    out.untypeset.push(e.textContent.trim().slice(0, 80));
  }
}
const tex = new Map();
try {
  for (const item of MathJax.startup.document.math) tex.set(item.typesetRoot, item.math);
} catch (e) { /* no MathJax on the page */ }
const BLOCK = 'p, li, dd, dt, td, th, figcaption, div, section, article';
const scrolls = e => ['auto', 'scroll'].includes(getComputedStyle(e).overflowX);
for (const c of article.querySelectorAll('mjx-container')) {
  const math = c.querySelector('mjx-math');
  if (!math) continue;
  const m = math.getBoundingClientRect();
  if (m.width === 0) continue;  // in a collapsed block
  const display = c.getAttribute('display') === 'true';
  // the column: the nearest block around the formula, past the display's own box
  let col = c.parentElement.closest(BLOCK);
  while (col && col.matches('div.math') && col !== article) col = col.parentElement.closest(BLOCK);
  if (!col) continue;
  const k = col.getBoundingClientRect();
  if (m.left >= k.left - 1 && m.right <= k.right + 1) continue;  // fits
  if (scrolling) {
    // the nearest scrolling box around the formula must fit the column and hold all of it
    let s = math.parentElement;
    while (s && s !== col && !scrolls(s)) s = s.parentElement;
    if (s && s !== col && scrolls(s)) {
      const b = s.getBoundingClientRect();
      const from = m.left - b.left + s.scrollLeft, to = m.right - b.left + s.scrollLeft;
      if (b.left >= k.left - 1 && b.right <= k.right + 1 && from >= -1 &&
          to <= s.scrollWidth + 1) continue;
    }
  }
  // the equation's or statement's label, else the section's
  const where = c.closest(['equation', 'thm', 'prop', 'lem', 'cor', 'def', 'ex', 'sol']
                            .map(p => `[id^="${p}-"]`).join(', ')) || c.closest('section[id]');
  const source = (tex.get(c) || '').trim().replace(/\s+/g, ' ').slice(0, 60);
  out.too_wide.push(`${display ? 'display' : 'inline'} ${Math.round(m.width)} px in ` +
                    `${Math.round(k.width)} px at #${where ? where.id : '?'}: ${source}`);
}
return out;
"""

_AXE_RUN = """
const done = arguments[arguments.length - 1];
axe.run(document, {resultTypes: ['violations']}).then(
  r => done(r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
             .map(v => v.id + ' (' + v.impact + '): ' +
                  v.nodes.slice(0, 3).map(n => n.target.join(' ')).join('; '))),
  e => done(['axe failed: ' + e]));
"""


@dataclass
class PageReport:
    """What the browser found on one page, by kind of defect."""

    console: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    images: list[str] = field(default_factory=list)
    math: list[str] = field(default_factory=list)
    axe: list[str] = field(default_factory=list)
    width: list[str] = field(default_factory=list)


def _logs(driver, site: Path, where: str, report: PageReport) -> None:
    """Console errors and requests outside ``site`` since the last call."""
    for entry in driver.get_log("browser"):
        if entry["level"] == "SEVERE":
            report.console.append(f"{where} {entry['message'][:300]}")
    root = site.resolve().as_uri() + "/"
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] != "Network.requestWillBeSent":
            continue
        url = message["params"]["request"]["url"]
        if not (url.startswith(root) or url.split(":", 1)[0] in ("data", "blob", "about")):
            report.requests.append(f"{where} {url[:200]}")


def _inspect(driver, where: str, report: PageReport, *, scrolling: bool) -> None:
    found = driver.execute_script(_INSPECT, scrolling)
    report.images += [f"{where} {src}" for src in found["broken_images"]]
    report.math += [f"{where} raw: {t}" for t in found["raw_math"]]
    report.math += [f"{where} MathJax error: {t}" for t in found["math_errors"]]
    report.math += [f"{where} not typeset: {t}" for t in found["untypeset"]]
    report.width += [f"{where} {t}" for t in found["too_wide"]]


def _screenshot(driver, size: tuple[int, int], dark: bool, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    height = driver.execute_script("return document.documentElement.scrollHeight")
    _view(driver, size, dark, height=min(int(height), 12000))
    driver.execute_async_script(_RELAID)
    driver.save_screenshot(str(path))
    _view(driver, size, dark)


def visit(driver, page: Path, site: Path, *, axe=False, chapter=False,
          shots: Path | None = None, report: PageReport | None = None) -> PageReport:
    """Open ``page`` once and add what is wrong with it to ``report``.

    Light theme at desktop width (with axe-core if ``axe``), then 400 px, then for a
    ``chapter`` the dark theme at desktop width; screenshots of each view under ``shots``.
    """
    report = report if report is not None else PageReport()
    _view(driver, DESKTOP, dark=False)
    driver.get_log("browser")
    driver.get_log("performance")
    driver.get(page.as_uri())
    driver.execute_async_script(_READY)
    views = [(DESKTOP, False, "light"), (PHONE, False, "400px")]
    if chapter:
        views.append((DESKTOP, True, "dark"))
    for size, dark, name in views:
        where = f"[{size[0]} px{', dark' if dark else ''}]"
        if (size, dark) != (DESKTOP, False):
            _view(driver, size, dark)
            if dark:
                driver.execute_script(_DARK)
            driver.execute_async_script(_RELAID)
        _inspect(driver, where, report, scrolling=size == PHONE)
        if axe and (size, dark) == (DESKTOP, False):
            driver.execute_script(AXE.read_text(encoding="utf-8"))
            report.axe += [f"{where} {v}" for v in driver.execute_async_script(_AXE_RUN)]
        if shots is not None:
            _screenshot(driver, size, dark, shots / f"{page.stem}-{name}.png")
        _logs(driver, site, where, report)
    return report


# --------------------------------------------------------------------------- links
_ID = re.compile(r"""\s(?:id|name)=["']([^"']+)["']""")
_HREF = re.compile(r"""<a\s[^>]*?href=["']([^"']*)["']""")


def broken_links(page: Path, site: Path, _ids: dict | None = None) -> list[str]:
    """Internal links of ``page`` whose file or anchor does not exist."""
    ids = _ids if _ids is not None else {}

    def anchors(path: Path) -> set[str]:
        if path not in ids:
            ids[path] = set(_ID.findall(path.read_text(encoding="utf-8", errors="replace")))
        return ids[path]

    broken = []
    for href in _HREF.findall(page.read_text(encoding="utf-8", errors="replace")):
        parts = urlsplit(href)
        if parts.scheme or href.startswith(("//", "mailto:", "javascript:")):
            continue
        target = (page.parent / unquote(parts.path)).resolve() if parts.path else page
        if target.is_dir():
            target = target / "index.html"
        if not target.exists() or site.resolve() not in (target, *target.parents):
            broken.append(f"{href}: no file {target}")
        elif parts.fragment and target.suffix == ".html" and \
                unquote(parts.fragment) not in anchors(target):
            broken.append(f"{href}: no anchor #{parts.fragment}")
    return broken


# --------------------------------------------------------------------------- the site
@pytest.fixture(scope="module")
def browsers(tmp_path_factory):
    """``BROWSERS`` headless Chromiums, started in parallel."""
    _require_browser()
    drivers: list = []
    # the profile folders are made here, in one thread: pytest's tmp_path_factory is not
    # thread-safe (its first mktemp creates the base folder, and two threads racing there
    # failed with "chromium-profile-0 is not a normalized and relative path")
    profiles = [tmp_path_factory.mktemp(f"chromium-profile-{i}") for i in range(BROWSERS)]
    threads = [threading.Thread(target=lambda p=p: drivers.append(_driver(p)))
               for p in profiles]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(drivers) == BROWSERS, "a browser did not start"
    yield drivers
    for driver in drivers:
        driver.quit()


@pytest.fixture(scope="module")
def browser(browsers):
    return browsers[0]


@pytest.fixture(scope="module")
def site_report(browsers):
    """One pass over the whole site, the browsers sharing the pages; ``{page: PageReport}``."""
    if not (SITE / "index.html").is_file():
        pytest.skip(f"the site is not built ({SITE}): run `make html` first")
    pages = _site_pages(SITE)
    chapters = set(_chapters(SITE))
    with_axe = _axe_pages(SITE, pages)
    shutil.rmtree(SHOTS, ignore_errors=True)
    reports = {p: PageReport() for p in pages}
    todo: queue.Queue = queue.Queue()
    # the longest pages first, so that no browser is left with a long one at the end
    for page in sorted(pages, key=lambda p: -p.stat().st_size):
        todo.put(page)
    errors: list[BaseException] = []
    seconds: dict[Path, float] = {}

    def work(driver) -> None:
        while not errors:
            try:
                page = todo.get_nowait()
            except queue.Empty:
                return
            begin = time.perf_counter()
            try:
                visit(driver, page, SITE, axe=page in with_axe, chapter=page in chapters,
                      shots=SHOTS if page in chapters else None, report=reports[page])
            except BaseException as e:  # noqa: BLE001 - re-raised below
                errors.append(e)
            seconds[page] = time.perf_counter() - begin

    start = time.perf_counter()
    threads = [threading.Thread(target=work, args=(d,)) for d in browsers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    SHOTS.mkdir(parents=True, exist_ok=True)
    slowest = sorted(seconds.items(), key=lambda item: -item[1])[:12]
    (SHOTS / "timing.txt").write_text(
        f"{len(pages)} pages ({len(with_axe)} with axe-core), {len(chapters)} chapters, "
        f"{len(browsers)} browsers: {time.perf_counter() - start:.1f} s; load average "
        f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores\nslowest pages:\n"
        + "".join(f"  {t:6.1f} s  {p.relative_to(SITE)}{' (axe-core)' * (p in with_axe)}\n"
                  for p, t in slowest))
    return reports


def _failures(reports: dict, kind: str) -> str:
    lines = [f"{page.relative_to(SITE)}: {problem}" for page, r in reports.items()
             for problem in getattr(r, kind)]
    return "\n".join(lines)


def test_site_has_chapters_with_downloads(site_report):
    assert _chapters(SITE), "no page offers an executed notebook"


@pytest.mark.parametrize("kind", ["console", "requests", "images", "math", "axe", "width"])
def test_site(site_report, kind):
    problems = _failures(site_report, kind)
    assert not problems, f"{kind}:\n{problems}"


def test_site_links_resolve():
    if not (SITE / "index.html").is_file():
        pytest.skip(f"the site is not built ({SITE}): run `make html` first")
    ids: dict = {}
    problems = [f"{p.relative_to(SITE)}: {b}" for p in _site_pages(SITE)
                for b in broken_links(p, SITE, ids)]
    assert not problems, "\n".join(problems)


def test_axe_sample_is_fixed_and_covers_the_other_pages():
    if not (SITE / "index.html").is_file():
        pytest.skip(f"the site is not built ({SITE}): run `make html` first")
    pages = _site_pages(SITE)
    sample = _axe_pages(SITE, pages)
    assert sample == _axe_pages(SITE, list(reversed(pages)))
    assert {p for p in pages if p.relative_to(SITE).parts[0] != SOURCES} <= sample
    assert SITE / SOURCES / "index.html" in sample


# --------------------------------------------------------------------------- defects
@pytest.fixture(scope="module")
def sample():
    """A page of the built site with formulas (the checks are shown to pass on it)."""
    if not (SITE / "index.html").is_file():
        pytest.skip(f"the site is not built ({SITE}): run `make html` first")
    page = SITE / CHAPTER_DIR / "notation.html"
    if not page.is_file():
        pytest.skip("the site has no notation page")
    return page


@pytest.fixture(scope="module")
def clean_sample(browser, sample) -> PageReport:
    """What the checks find on the sample page as built: nothing (the control)."""
    return visit(browser, sample, SITE, axe=True)


def _copy_with(tmp_path: Path, page: Path, snippet: str) -> tuple[Path, Path]:
    """A site in ``tmp_path`` sharing the real one's files, with ``snippet`` in ``page``."""
    site = tmp_path / "site"
    site.mkdir()
    for entry in SITE.iterdir():
        if entry.name != CHAPTER_DIR:
            (site / entry.name).symlink_to(entry)
    (site / CHAPTER_DIR).mkdir()
    for entry in (SITE / CHAPTER_DIR).iterdir():
        (site / CHAPTER_DIR / entry.name).symlink_to(entry)
    rel = page.relative_to(SITE)
    (site / rel).unlink()
    html = page.read_text(encoding="utf-8")
    marker = '<article class="bd-article">'
    assert marker in html
    (site / rel).write_text(html.replace(marker, marker + snippet, 1), encoding="utf-8")
    return site, site / rel


def _sum(n: int) -> str:
    return " + ".join(f"x_{{{i}}}^{{2}}" for i in range(n))


# A formula about 500 px wide: fits a desktop column, not a 400 px one.
_MEDIUM = _sum(14)


@pytest.mark.parametrize("kind, snippet, needle", [
    ("console", "<script>const THEBE_X = 1;</script><script>const THEBE_X = 2;</script>",
     "THEBE_X"),
    ("requests", '<img alt="remote" src="https://cdn.example.invalid/pixel.png">',
     "cdn.example.invalid"),
    ("images", '<img alt="missing" src="no-such-image.png">', "no-such-image"),
    # maths the parser left as text: MyST marks its sections for MathJax to ignore (it
    # typesets only what MyST recognised as maths), so it stays raw on the page
    ("math", r'<section class="tex2jax_ignore mathjax_ignore"><p>Raw \(x^2\) left over.'
     '</p></section>', "raw"),
    ("math", r'<span class="math notranslate nohighlight">\(\frac{1}\)</span>', "error"),
    ("axe", '<img src="../_static/hidden-units-no-alt.png"><button></button>', "button-name"),
    # a display too wide for a desktop column (it scrolls at 400 px, not at 1280 px)
    ("width", rf'<div class="math notranslate nohighlight">\[{_sum(80)}\]</div>', "1280 px"),
    # a display in a box that clips it at 400 px, its own scrolling turned off
    ("width", '<style>#clip mjx-container { overflow: visible !important; }</style>'
     rf'<div id="clip" style="overflow: hidden"><div class="math notranslate nohighlight">'
     rf'\[{_MEDIUM}\]</div></div>', "400 px"),
    # an inline formula running past the column at 400 px, without its scrolling box
    ("width", '<style>#plain mjx-container { display: inline !important; '
     'overflow: visible !important; }</style>'
     rf'<p id="plain">A sum <span class="math notranslate nohighlight">\({_MEDIUM}\)</span>'
     ' too long.</p>', "400 px"),
], ids=["console", "requests", "images", "raw-math", "math-error", "axe", "width-desktop",
        "width-clipped", "width-inline"])
def test_each_check_catches_an_injected_defect(browser, sample, clean_sample, tmp_path, kind,
                                               snippet, needle):
    assert not getattr(clean_sample, kind), getattr(clean_sample, kind)
    site, page = _copy_with(tmp_path, sample, snippet)
    found = getattr(visit(browser, page, site, axe=kind == "axe"), kind)
    assert any(needle in f for f in found), f"the {kind} check missed: {snippet}\n{found}"


@pytest.mark.parametrize("snippet", [
    rf'<div class="math notranslate nohighlight">\[{_MEDIUM}\]</div>',
    rf'<p>A sum <span class="math notranslate nohighlight">\({_MEDIUM}\)</span> in line.</p>',
], ids=["display", "inline"])
def test_long_formula_scrolls_in_its_own_box_at_400px(browser, sample, tmp_path, snippet):
    """The site's treatment: a formula too wide for 400 px scrolls, the width check accepts.

    The same formula without its scrolling box fails the check (``width-clipped`` and
    ``width-inline`` above), so it is too wide for the column.
    """
    site, page = _copy_with(tmp_path, sample, snippet)
    assert not visit(browser, page, site).width


def test_link_check_catches_broken_links(sample, tmp_path):
    assert not broken_links(sample, SITE)
    site, page = _copy_with(tmp_path, sample,
                            '<a href="#no-such-anchor">x</a><a href="nowhere.html">y</a>')
    found = broken_links(page, site)
    assert any("no-such-anchor" in b for b in found) and any("nowhere" in b for b in found)
