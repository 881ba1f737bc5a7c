"""The built site in a real browser: Debian's chromium and chromedriver, driven by Selenium.

Every page of the site (``_build/html``, or ``HIDDENUNITS_SITE``) is opened from disk in
headless Chromium, at desktop width in the light theme and at 400 px width, and the
chapters also in the dark theme; for every page:

* no console error;
* no request outside the build folder (the browser blocks the network, and records what
  a page asked for);
* every image loaded;
* every formula typeset by MathJax: no MathJax error, no ``\\(``, ``\\[`` or ``$$`` left
  in the text;
* every internal link and anchor resolves (read from the HTML files);
* no serious or critical violation reported by axe-core (from the npm registry into
  ``_build/axe``, injected into the page by the test, never part of the site);
* no formula wider than its container, at desktop width and at 400 px.

Screenshots of each chapter in light mode, dark mode and at 400 px are written to
``_build/screenshots``, with the time each pass took (``timing.txt``).  Each kind of
defect is injected into a copy of a page, and the check is shown to catch it.

The tests are marked ``site``: ``make site`` runs them after the book is built (``make
test`` does); without a built site they are skipped.  ``make browser-deps`` installs
chromium, chromedriver (Debian) and axe-core (npm).
"""

from __future__ import annotations

import json
import os
import re
import shutil
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
CHAPTER_DIR = "book"

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
    driver.set_page_load_timeout(60)
    driver.set_script_timeout(600)  # axe-core on the API appendix takes about a minute
    driver.execute_cdp_cmd("Network.enable", {})
    # nothing leaves the machine; a page's attempts are still recorded
    driver.execute_cdp_cmd("Network.setBlockedURLs",
                           {"urls": ["http://*", "https://*", "ws://*", "wss://*", "ftp://*"]})
    return driver


def _view(driver, size: tuple[int, int], dark: bool) -> None:
    width, height = size
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": width, "height": height, "deviceScaleFactor": 1,
                            "mobile": width < 600})
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

_INSPECT = r"""
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
for (const c of article.querySelectorAll('mjx-container')) {
  const math = c.querySelector('mjx-math');
  if (!math) continue;
  const w = math.getBoundingClientRect().width;
  if (w === 0) continue;  // in a collapsed block
  let box = c.getAttribute('display') === 'true' ? c : c.parentElement.closest(
      'p, li, dd, dt, td, th, figcaption, div, section');
  const room = Math.min(c.getBoundingClientRect().width || Infinity,
                        box ? box.clientWidth : Infinity);
  if (c.getAttribute('display') === 'true' && w > room + 1) {
    out.too_wide.push(`${Math.round(w)} px in ${Math.round(room)} px: ` +
                      (c.closest('[id]') || {}).id);
  } else if (c.getAttribute('display') !== 'true' && box &&
             c.getBoundingClientRect().right > box.getBoundingClientRect().right + 1) {
    out.too_wide.push(`inline, past the right edge by ` +
        `${Math.round(c.getBoundingClientRect().right - box.getBoundingClientRect().right)}` +
        ` px: ` + (c.closest('[id]') || {}).id);
  }
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


def visit(driver, page: Path, site: Path, *, size=DESKTOP, dark=False, axe=False,
          screenshot: Path | None = None, report: PageReport | None = None) -> PageReport:
    """Open ``page`` and add what is wrong with it to ``report``."""
    report = report if report is not None else PageReport()
    _view(driver, size, dark)
    driver.get_log("browser")
    driver.get_log("performance")
    driver.get(page.as_uri())
    driver.execute_async_script(_READY)
    where = f"[{size[0]} px{', dark' if dark else ''}]"
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
    found = driver.execute_script(_INSPECT)
    report.images += [f"{where} {src}" for src in found["broken_images"]]
    report.math += [f"{where} raw: {t}" for t in found["raw_math"]]
    report.math += [f"{where} MathJax error: {t}" for t in found["math_errors"]]
    report.math += [f"{where} not typeset: {t}" for t in found["untypeset"]]
    report.width += [f"{where} {t}" for t in found["too_wide"]]
    if axe:
        driver.execute_script(AXE.read_text(encoding="utf-8"))
        report.axe += [f"{where} {v}" for v in driver.execute_async_script(_AXE_RUN)]
    if screenshot is not None:
        screenshot.parent.mkdir(parents=True, exist_ok=True)
        height = driver.execute_script("return document.documentElement.scrollHeight")
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                               {"width": size[0], "height": min(int(height), 12000),
                                "deviceScaleFactor": 1, "mobile": size[0] < 600})
        driver.save_screenshot(str(screenshot))
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
def browser(tmp_path_factory):
    _require_browser()
    driver = _driver(tmp_path_factory.mktemp("chromium-profile"))
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def site_report(browser):
    """One pass over the whole site; ``{page: PageReport}`` plus the time each pass took."""
    if not (SITE / "index.html").is_file():
        pytest.skip(f"the site is not built ({SITE}): run `make html` first")
    pages = _site_pages(SITE)
    chapters = _chapters(SITE)
    shutil.rmtree(SHOTS, ignore_errors=True)
    reports = {p: PageReport() for p in pages}
    timing = {}
    start = time.perf_counter()
    for page in pages:
        shot = SHOTS / f"{page.stem}-light.png" if page in chapters else None
        visit(browser, page, SITE, axe=True, screenshot=shot, report=reports[page])
    timing["desktop, light, axe-core"] = time.perf_counter() - start
    start = time.perf_counter()
    for page in pages:
        shot = SHOTS / f"{page.stem}-400px.png" if page in chapters else None
        visit(browser, page, SITE, size=PHONE, screenshot=shot, report=reports[page])
    timing["400 px"] = time.perf_counter() - start
    start = time.perf_counter()
    for page in chapters:
        visit(browser, page, SITE, dark=True, screenshot=SHOTS / f"{page.stem}-dark.png",
              report=reports[page])
    timing["dark (chapters)"] = time.perf_counter() - start
    SHOTS.mkdir(parents=True, exist_ok=True)
    (SHOTS / "timing.txt").write_text(
        f"{len(pages)} pages, {len(chapters)} chapters\n"
        + "".join(f"{k}: {v:.1f} s\n" for k, v in timing.items()))
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


# --------------------------------------------------------------------------- defects
@pytest.fixture(scope="module")
def sample():
    """A chapter page of the built site (the checks are shown to pass on it)."""
    if not (SITE / "index.html").is_file():
        pytest.skip(f"the site is not built ({SITE}): run `make html` first")
    chapters = _chapters(SITE)
    if not chapters:
        pytest.skip("the site has no chapter page")
    return chapters[0]


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


@pytest.mark.parametrize("kind, snippet", [
    ("console", "<script>const THEBE_X = 1;</script><script>const THEBE_X = 2;</script>"),
    ("requests", '<img alt="remote" src="https://cdn.example.invalid/pixel.png">'),
    ("images", '<img alt="missing" src="no-such-image.png">'),
    ("math", r"<p>Raw \(x^2\) left over.</p>"),
    ("math", r'<span class="math notranslate nohighlight">\(\frac{1}\)</span>'),
    ("axe", '<img src="../_static/hidden-units-no-alt.png"><button></button>'),
    ("width", '<div class="math notranslate nohighlight">\\[' + " + ".join(
        f"x_{{{i}}}^{{2}}" for i in range(80)) + "\\]</div>"),
], ids=["console", "requests", "images", "raw-math", "math-error", "axe", "width"])
def test_each_check_catches_an_injected_defect(browser, sample, tmp_path, kind, snippet):
    clean = visit(browser, sample, SITE, axe=kind == "axe")
    assert not getattr(clean, kind), getattr(clean, kind)
    site, page = _copy_with(tmp_path, sample, snippet)
    found = visit(browser, page, site, axe=kind == "axe")
    assert getattr(found, kind), f"the {kind} check missed: {snippet}"


def test_link_check_catches_broken_links(sample, tmp_path):
    assert not broken_links(sample, SITE)
    site, page = _copy_with(tmp_path, sample,
                            '<a href="#no-such-anchor">x</a><a href="nowhere.html">y</a>')
    found = broken_links(page, site)
    assert any("no-such-anchor" in b for b in found) and any("nowhere" in b for b in found)
