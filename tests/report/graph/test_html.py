"""The HTML report opened in a real headless browser: Debian's Chromium, driven by
selenium through chromedriver (the `chromium-driver` package; `.ci/run` installs both
when missing). A screenshot is taken and must not be blank; the SVG shows a box with
each node's label and a path per edge; the findings table renders (a row per finding,
or "no findings given"); the page loads nothing from anywhere.

Skipped only when no Chromium can be found."""

from __future__ import annotations

import os
import re
import shutil
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

from kmsprove.errors import SourcePos
from kmsprove.questions.graph import FindingRow
from kmsprove.report.graph.html import render_html
from tests.questions.graph.worlds import graph_of

CHROMIUM = shutil.which("chromium") or next(
    (p for p in ("/usr/bin/chromium", "/usr/lib/chromium/chromium") if os.path.exists(p)), None
)
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--window-size=1600,1200",
)

pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="no Chromium found (`apt-get install -y chromium chromium-driver`; .ci/run does it)",
)


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[webdriver.Chrome]:
    driver_path = shutil.which("chromedriver") or "/usr/bin/chromedriver"
    assert os.path.exists(driver_path), (
        "Chromium is installed but chromedriver is not: `apt-get install -y chromium-driver`"
    )
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}")
    driver = webdriver.Chrome(options=options, service=Service(executable_path=driver_path))
    try:
        yield driver
    finally:
        driver.quit()


def _pixels(png: bytes) -> list[bytes]:
    """The rows of an 8-bit RGB or RGBA PNG, unfiltered (what Chromium writes)."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    pos, data, width, height, channels = 8, b"", 0, 0, 0
    while pos < len(png):
        (size,) = struct.unpack(">I", png[pos : pos + 4])
        kind, body = png[pos + 4 : pos + 8], png[pos + 8 : pos + 8 + size]
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", body[:10])
            assert depth == 8 and colour in (2, 6)
            channels = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            data += body
        pos += 12 + size
    raw, stride, rows, prev = zlib.decompress(data), width * channels, [], bytes(width * channels)
    for y in range(height):
        kind, line = (
            raw[y * (stride + 1)],
            bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)]),
        )
        for i in range(stride):
            a = line[i - channels] if i >= channels else 0
            b, c = prev[i], prev[i - channels] if i >= channels else 0
            p = (a, b, (a + b) // 2, _paeth(a, b, c))[kind - 1] if kind else 0
            line[i] = (line[i] + p) & 0xFF
        rows.append(bytes(line))
        prev = bytes(line)
    return [bytes(r[x : x + 3]) for r in rows for x in range(0, stride, channels)]


def _paeth(a: int, b: int, c: int) -> int:
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    return a if pa <= pb and pa <= pc else b if pb <= pc else c


def _open(browser: webdriver.Chrome, path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")
    browser.get(path.as_uri())


def test_the_graph_and_the_findings_render(browser: webdriver.Chrome, tmp_path: Path) -> None:
    where = SourcePos("tests/data/graph/grants/world.json", 19, 9)
    findings = [
        FindingRow(
            "high",
            "grants-not-for-aws-resources",
            "AppRole can pass its grant on",
            where,
            "arn:aws:iam::111122223333:role/AppRole",
            "CreateGrant without kms:GrantIsForAWSResource",
        ),
        FindingRow(
            "low",
            "external-use",
            "a role of 444455556666 can decrypt",
            None,
            "arn:aws:iam::444455556666:role/Worker",
        ),
    ]
    g = graph_of("grants", highlight=[("tests/data/graph/grants/world.json", 19)])
    _open(browser, tmp_path / "graph.html", render_html(g, findings))
    assert browser.save_screenshot(str(tmp_path / "page.png"))  # the whole page, for people
    shot = browser.find_element(By.CSS_SELECTOR, "#graph svg").screenshot_as_png
    pixels = _pixels(shot)
    colours = set(pixels)
    inked = sum(p != b"\xff\xff\xff" for p in pixels)
    assert len(colours) > 20 and inked > len(pixels) // 100, "the screenshot is blank"

    boxes = browser.find_elements(By.CSS_SELECTOR, "svg g.node")
    labels = [b.find_element(By.TAG_NAME, "text").text for b in boxes]
    assert sorted(labels) == sorted(n.label for n in g.nodes)
    for b in boxes:
        rect = b.find_element(By.TAG_NAME, "rect").rect
        assert rect["width"] > 20 and rect["height"] > 20, rect
        text = b.find_element(By.TAG_NAME, "text").rect
        assert text["width"] > 0 and text["height"] > 0
    paths = browser.find_elements(By.CSS_SELECTOR, "svg g.edge path")
    assert len(paths) == len(g.edges)
    assert all(p.rect["width"] > 0 for p in paths)
    hot = browser.find_elements(By.CSS_SELECTOR, "svg g.edge.highlighted path")
    assert len(hot) == sum(e.highlighted for e in g.edges) == 2  # the grant and its chain
    assert all(p.get_attribute("stroke") == "#d62728" for p in hot)

    table = browser.find_element(By.ID, "findings-table")
    assert table.rect["width"] > 100 and table.rect["height"] > 20
    rows = table.find_elements(By.TAG_NAME, "tr")
    assert len(rows) == 1 + len(findings)
    cells = [c.text for c in rows[1].find_elements(By.TAG_NAME, "td")]
    assert cells[:4] == [
        "high",
        "grants-not-for-aws-resources",
        "AppRole can pass its grant on",
        "tests/data/graph/grants/world.json:19",
    ]
    edges = browser.find_elements(By.CSS_SELECTOR, "#edges tr")
    assert len(edges) == 1 + len(g.edges)
    # nothing fetched: no resource entries, and no address to fetch in the file
    assert browser.execute_script("return performance.getEntriesByType('resource').length") == 0
    page = (tmp_path / "graph.html").read_text()
    assert re.findall(r"https?://[^\s\"']+", page) == ["http://www.w3.org/2000/svg"]


def test_without_findings_the_table_says_so(browser: webdriver.Chrome, tmp_path: Path) -> None:
    g = graph_of("cross-account")
    _open(browser, tmp_path / "graph.html", render_html(g))
    rows = browser.find_elements(By.CSS_SELECTOR, "#findings-table tr")
    assert [r.text for r in rows[1:]] == ["no findings given"]
    assert rows[1].rect["height"] > 0
    labels = {t.text for t in browser.find_elements(By.CSS_SELECTOR, "svg g.node text")}
    assert "any principal of account 444455556666" in labels
    assert "arn:aws:iam::444455556666:role/Reader" in labels


ESTATE = Path(__file__).resolve().parents[3] / "examples" / "estate"


def test_the_audit_report_shows_each_worlds_graph_and_findings(
    browser: webdriver.Chrome, tmp_path: Path
) -> None:
    """`kmsprove audit examples/estate --html FILE`, opened: a graph per world, its
    findings table with a row per finding, the edges its findings name coloured."""
    import json

    from click.testing import CliRunner

    from kmsprove.cli import main

    report = tmp_path / "audit.html"
    result = CliRunner().invoke(
        main, ["audit", str(ESTATE), "--html", str(report), "--format", "json", "--jobs", "1"]
    )
    assert result.exit_code == 1, result.output
    findings = json.loads(result.stdout)["findings"]
    worlds = sorted({f["world"] for f in findings})
    browser.get(report.as_uri())
    graphs = browser.find_elements(By.CSS_SELECTOR, "section[id^=graph] svg")
    assert len(graphs) == len(list(ESTATE.glob("*/world.json"))) == len(worlds)
    for svg in graphs:
        assert svg.rect["width"] > 100 and svg.rect["height"] > 50
    tables = browser.find_elements(By.CSS_SELECTOR, "table[id^=findings-table]")
    rows = [r for t in tables for r in t.find_elements(By.TAG_NAME, "tr")[1:]]
    assert sorted(r.find_elements(By.TAG_NAME, "td")[1].text for r in rows) == sorted(
        f["rule"] for f in findings
    )
    assert browser.find_elements(By.CSS_SELECTOR, "svg g.edge.highlighted path")
    assert browser.save_screenshot(str(tmp_path / "audit.png"))
    assert browser.execute_script("return performance.getEntriesByType('resource').length") == 0
