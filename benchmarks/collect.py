"""500 generated price pages fetched and parsed by our collector and by a Scrapy spider.

The pages (benchmarks/pages.py: a provincial portal's boilerplate around a Word-pasted price
table, 60–150 KB each) are served from memory by a threaded HTTP/1.1 server on 127.0.0.1 in a
process of its own. Our collector fetches them with ``market.prices.fetch.Fetcher`` (delay 0 and
robots.txt off: it is our own server) and reads each with ``html_table.collect`` then
``normalise_collected``, the path a collection run takes. The anchor, in the same run and
against the same server: a Scrapy spider (CrawlerProcess in a subprocess, since a Twisted reactor
cannot restart) that reads the same table with parsel and reads each price with
``market.text.parse_range``. Both run at the same concurrency, and both must find the same
prices. Then the parse alone, CPU time per page over the pages in memory, for our parser (its
lxml path and the BeautifulSoup path it used to take), BeautifulSoup + lxml and parsel.
Goal: our collector at least as fast as Scrapy.
"""

from __future__ import annotations

import json
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from importlib.metadata import version
from pathlib import Path
from typing import Any

from benchmarks import pages
from market.prices.fetch import DEFAULT_USER_AGENT, Fetcher, ascii_header
from market.prices.normalise import normalise_collected
from market.prices.sources import html_table
from market.prices.sources.base import Collected
from market.text import NumberFormatError, fold, parse_change, parse_range

COUNT = 500
CONCURRENCY = (1, 4)  # 1 is what a collection run does today; 4 is a small pool per source
ROUNDS = 3  # ours and Scrapy alternate; the median of the rounds is reported
ROOT = Path(__file__).resolve().parent.parent
SETTINGS = {
    "table": pages.TABLE_SELECTOR,
    "date_from_heading": {
        "selector": pages.HEADING_SELECTOR,
        "regex": r"ngày (\d{1,2}/\d{1,2}/\d{4})",
    },
}
_COLUMNS = {  # folded header → field, for the anchors' parse of the same table
    "mat hang": "commodity",
    "thi truong": "market",
    "don vi tinh": "unit",
    "gia (dong)": "price",
    "tang/giam (+/-)": "change",
}


# ---------------------------------------------------------------------------
# The anchors' parse: one table walk over a grid of cell texts, fed by parsel or by bs4
# ---------------------------------------------------------------------------


def _expand(rows: list[list[tuple[str, int, int]]]) -> list[list[str]]:
    """Rows of (text, rowspan, colspan) → rows of texts at their column (rowspans carried)."""
    grid: list[list[str]] = []
    pending: dict[int, tuple[int, str]] = {}
    for cells in rows:
        line: dict[int, str] = {}
        for column, (left, text) in list(pending.items()):
            line[column] = text
            if left <= 1:
                del pending[column]
            else:
                pending[column] = (left - 1, text)
        column = 0
        for text, rowspan, colspan in cells:
            for _ in range(colspan):
                while column in line:
                    column += 1
                line[column] = text
                if rowspan > 1:
                    pending[column] = (rowspan - 1, text)
                column += 1
        grid.append([line.get(i, "") for i in range(max(line) + 1 if line else 0)])
    return grid


def _span(value: str | None) -> int:
    try:
        return max(1, int(value or 1))
    except ValueError:
        return 1


def _prices(rows: list[list[tuple[str, int, int]]]) -> list[tuple]:
    """The table's prices read as numbers: (commodity, market, unit, low, high, change)."""
    grid = _expand(rows)
    where = {_COLUMNS[fold(text)]: i for i, text in enumerate(grid[0]) if fold(text) in _COLUMNS}
    found = []
    for line in grid[1:]:
        if len(set(line)) == 1:
            continue  # a section row ("I. LƯƠNG THỰC") spans the table
        try:
            price = parse_range(line[where["price"]])
        except NumberFormatError:
            continue  # "-": not surveyed
        change_text = line[where["change"]]
        change = parse_change(change_text) if change_text else None
        found.append(
            (
                line[where["commodity"]],
                line[where["market"]],
                line[where["unit"]],
                price.low,
                price.high,
                change,
            )
        )
    return found


def parsel_prices(selector: Any) -> list[tuple]:
    """The spider's parse: parsel (lxml + cssselect) selectors, as a Scrapy project writes it."""
    table = selector.css(pages.TABLE_SELECTOR)[0]
    rows = []
    for tr in table.xpath("./tr | ./tbody/tr | ./thead/tr"):
        cells = []
        for td in tr.xpath("./td | ./th"):
            text = " ".join(" ".join(td.xpath(".//text()").getall()).split())
            cells.append((text, _span(td.attrib.get("rowspan")), _span(td.attrib.get("colspan"))))
        rows.append(cells)
    return _prices(rows)


def bs4_prices(html: str) -> list[tuple]:
    """The naive parse the issue measured: BeautifulSoup with the lxml parser, then the same."""
    from bs4 import BeautifulSoup

    table = BeautifulSoup(html, "lxml").select_one(pages.TABLE_SELECTOR)
    assert table is not None
    rows = []
    for tr in table.find_all("tr"):
        cells = []
        for td in tr.find_all(["td", "th"], recursive=False):
            text = " ".join(td.get_text(" ").split())
            cells.append((text, _span(td.get("rowspan")), _span(td.get("colspan"))))
        rows.append(cells)
    return _prices(rows)


# ---------------------------------------------------------------------------
# The crawls
# ---------------------------------------------------------------------------


def _ours(base: str, paths: list[str], concurrency: int) -> dict[str, float]:
    """Our collector: a Fetcher per thread, html_table.collect + normalise_collected per page."""
    local = threading.local()
    fetchers: list[Fetcher] = []

    def collect(path: str) -> int:
        fetcher = getattr(local, "fetcher", None)
        if fetcher is None:
            fetcher = local.fetcher = Fetcher(delay=0, respect_robots=False)
            fetchers.append(fetcher)
        collected = html_table.collect(
            fetcher=fetcher, url=base + path, settings=SETTINGS, today=pages.TODAY
        )
        prices, _ = normalise_collected(collected, today=pages.TODAY)
        return len(prices)

    cpu, started = time.process_time(), time.perf_counter()
    if concurrency == 1:
        rows = sum(collect(path) for path in paths)
    else:
        with ThreadPoolExecutor(concurrency) as pool:
            rows = sum(pool.map(collect, paths))
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    for fetcher in fetchers:
        fetcher.close()
    return {"seconds": seconds, "cpu": cpu, "pages": len(paths), "rows": rows}


def _scrapy(base: str, paths: list[str], concurrency: int) -> dict[str, float]:
    """The spider in a fresh interpreter; it reports its own clock from its first request."""
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.collect", "spider"],
        input=json.dumps({"base": base, "paths": paths, "concurrency": concurrency}),
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"the Scrapy spider failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def spider(base: str, paths: list[str], concurrency: int) -> dict[str, float]:
    """Crawl *paths* with Scrapy's CrawlerProcess (``python -m benchmarks.collect spider``)."""
    import scrapy
    from scrapy.crawler import CrawlerProcess

    clock: dict[str, Any] = {"pages": 0, "rows": 0}

    class PriceSpider(scrapy.Spider):
        name = "prices"

        async def start(self):  # Scrapy ≥ 2.13
            for request in self.start_requests():
                yield request

        def start_requests(self):
            clock["start"], clock["cpu"] = time.perf_counter(), time.process_time()
            for path in paths:
                yield scrapy.Request(base + path, callback=self.parse_page, dont_filter=True)

        def parse_page(self, response):
            prices = parsel_prices(response.selector)
            clock["pages"] += 1
            clock["rows"] += len(prices)
            clock["end"], clock["cpu_end"] = time.perf_counter(), time.process_time()
            yield {"url": response.url, "prices": prices}  # one item per page

    process = CrawlerProcess(
        {
            "CONCURRENT_REQUESTS": concurrency,
            "CONCURRENT_REQUESTS_PER_DOMAIN": concurrency,
            "DOWNLOAD_DELAY": 0,
            "AUTOTHROTTLE_ENABLED": False,
            "ROBOTSTXT_OBEY": False,
            "LOG_LEVEL": "WARNING",
            "TELNETCONSOLE_ENABLED": False,
            "USER_AGENT": ascii_header(DEFAULT_USER_AGENT),
        }
    )
    crawler = process.create_crawler(PriceSpider)
    process.crawl(crawler)
    process.start()
    stats = crawler.stats.get_stats()
    if stats.get("downloader/response_status_count/200") != len(paths):
        raise RuntimeError(f"Scrapy did not fetch every page: {stats}")
    return {
        "seconds": clock["end"] - clock["start"],
        "cpu": clock["cpu_end"] - clock["cpu"],
        "pages": clock["pages"],
        "rows": clock["rows"],
    }


# ---------------------------------------------------------------------------
# The server and the run
# ---------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start_server(directory: Path, port: int) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.pages", "serve", str(directory), str(port)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(100):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("the page server did not start")


@contextmanager
def _beautifulsoup_path() -> Iterator[None]:
    """html_table.parse as it read every page before the lxml path (now its fallback)."""
    original = html_table._LxmlDom.read
    html_table._LxmlDom.read = classmethod(lambda cls, html, selectors: None)  # type: ignore[assignment]
    try:
        yield
    finally:
        html_table._LxmlDom.read = original  # type: ignore[method-assign]


def _cpu_per_page(texts: list[str], parse: Callable[[str], int]) -> tuple[float, int]:
    """CPU milliseconds per page of *parse* over *texts*, and the prices it found."""
    started = time.process_time()
    rows = sum(parse(text) for text in texts)
    return (time.process_time() - started) * 1000 / len(texts), rows


def _parse_only(texts: list[str]) -> list[tuple[str, float, int]]:
    """Each parser over every page, round-robin for ROUNDS rounds; the best round of each."""
    from parsel import Selector

    def ours(text: str) -> int:
        return len(html_table.parse(text, settings=SETTINGS, today=pages.TODAY).rows)

    def ours_normalised(text: str) -> int:
        result = html_table.parse(text, settings=SETTINGS, today=pages.TODAY)
        collected = Collected(pages=[], result=result, defaults=result.defaults, scale=result.scale)
        return len(normalise_collected(collected, today=pages.TODAY)[0])

    def ours_before(text: str) -> int:
        with _beautifulsoup_path():
            return ours(text)

    parsers: list[tuple[str, Callable[[str], int]]] = [
        ("`html_table.parse` (lxml path)", ours),
        ("`html_table.parse` + `normalise_collected`", ours_normalised),
        ("`html_table.parse`, BeautifulSoup path (before; now the fallback)", ours_before),
        ("BeautifulSoup + lxml, naive (+ `parse_range`)", lambda t: len(bs4_prices(t))),
        (
            "parsel / lxml, the spider's parse (+ `parse_range`)",
            lambda t: len(parsel_prices(Selector(text=t))),
        ),
    ]
    best: dict[str, tuple[float, int]] = {}
    for _ in range(ROUNDS):
        for name, parse in parsers:
            ms, rows = _cpu_per_page(texts, parse)
            if name not in best or ms < best[name][0]:
                best[name] = (ms, rows)
    return [(name, *best[name]) for name, _ in parsers]


def run() -> None:
    from benchmarks.common import record, temp_dir

    with temp_dir() as tmp:
        directory = Path(tmp)
        paths, expected = pages.generate(directory, COUNT)
        files = sorted(directory.iterdir())
        megabytes = sum(f.stat().st_size for f in files) / 1e6
        texts = [f.read_text(encoding="utf-8") for f in files]
        port = _free_port()
        server = _start_server(directory, port)
        base = f"http://127.0.0.1:{port}"
        measured: dict[tuple[str, int], list[dict[str, float]]] = {}
        try:
            for concurrency in CONCURRENCY:
                for _ in range(ROUNDS):
                    for name, crawl in (("ours", _ours), ("scrapy", _scrapy)):
                        result = crawl(base, paths, concurrency)
                        if (result["pages"], result["rows"]) != (COUNT, expected):
                            raise RuntimeError(f"{name} read {result}, expected {expected} rows")
                        measured.setdefault((name, concurrency), []).append(result)
        finally:
            server.terminate()
            server.wait(timeout=10)
        parse_only = _parse_only(texts)

    lines = [
        f"{COUNT} generated price pages ({megabytes / COUNT * 1000:.0f} KB on average: portal",
        "boilerplate around a Word-pasted table of 40–80 rows with rowspans and section rows),",
        "served from memory by a threaded HTTP/1.1 server on 127.0.0.1 in a process of its own.",
        "Ours: `Fetcher(delay=0, respect_robots=False)` (our own server, so no politeness delay",
        "and no robots.txt), then `html_table.collect` + `normalise_collected` per page, one",
        "Fetcher per thread. Anchor in the same run: a Scrapy "
        f"{version('scrapy')} spider (CrawlerProcess in",
        "a subprocess; AUTOTHROTTLE off, ROBOTSTXT_OBEY off, DOWNLOAD_DELAY 0, LOG_LEVEL WARNING)",
        "reading the same table with parsel and each price with `parse_range`, one item per page;",
        "its clock runs from its first request to its last parsed page (interpreter and Scrapy",
        "start-up excluded). CONCURRENT_REQUESTS = our thread count. Median of "
        f"{ROUNDS} alternating",
        f"rounds (range in brackets). Both found every price of every page: {expected:,} rows.",
        "",
        "| concurrency | client | wall s | pages/s | client CPU ms/page | ours ÷ Scrapy |",
        "|---|---|---|---|---|---|",
    ]
    for concurrency in CONCURRENCY:
        rate = {}
        for name in ("ours", "scrapy"):
            runs = measured[(name, concurrency)]
            per_second = [COUNT / r["seconds"] for r in runs]
            rate[name] = statistics.median(per_second)
            seconds = statistics.median(r["seconds"] for r in runs)
            cpu = statistics.median(r["cpu"] for r in runs) * 1000 / COUNT
            lines.append(
                f"| {concurrency} | {'ours' if name == 'ours' else 'Scrapy'} | {seconds:.2f} "
                f"| **{rate[name]:.0f}** ({min(per_second):.0f}–{max(per_second):.0f}) "
                f"| {cpu:.1f} | |"
            )
        lines[-2] = lines[-2].removesuffix("| |") + f"| **{rate['ours'] / rate['scrapy']:.2f}** |"
    lines += [
        "",
        f"Parse alone: CPU time (`time.process_time`) over the {COUNT} pages in memory, best of",
        f"{ROUNDS} round-robin rounds:",
        "",
        "| parser | CPU ms/page | rows |",
        "|---|---|---|",
    ]
    lines += [f"| {name} | **{ms:.1f}** | {rows:,} |" for name, ms, rows in parse_only]
    lines += ["", "Goal: our collector at least as fast as Scrapy (ours ÷ Scrapy ≥ 1)."]
    record("Price collection", "make bench BENCH=collect", lines)


if __name__ == "__main__":
    if sys.argv[1:] == ["spider"]:
        job = json.load(sys.stdin)
        print(json.dumps(spider(job["base"], job["paths"], job["concurrency"])))
    else:
        run()
