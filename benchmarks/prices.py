"""The price board and a commodity page under load, over five years of generated prices.

Data: 80 series groups (the 79 catalogue commodities, the first of them also as retail prices)
× 30 province markets × 1,826 days (five years; each market misses 0–39 random days, so
series differ) ≈ 4.33 million ``price_observation`` rows from one source. Bulk-loaded with the
table's secondary indexes built after the load from their own DDL (SQLite: executemany in big
transactions, journal and sync off for the load only, on a throwaway file; PostgreSQL: COPY,
then VACUUM ANALYZE as autovacuum would), then ``rebuild_all()`` for the per-series summaries
and ``compute_anomalies()`` for the warnings the board shows, each timed. The SQLite file is
kept in benchmarks/data/ and the PostgreSQL database (``market_bench_prices``, created next to
the one MARKET_BENCH_DATABASE_URL or MARKET_TEST_DATABASE_URL names, which stays untouched)
between runs, keyed by the generator version; a kept copy is migrated to the code's head and
its summaries are rebuilt (and timed) again. MARKET_BENCH_FRESH=1 regenerates them.

Server: the real application under gunicorn in a subprocess on 127.0.0.1 (sync workers),
with a bare endpoint (``benchmarks/bench_app.py``: a small text response, no database, no
template) on the same server, workers and Flask stack: the anchor. Client: separate Python
processes, a thread per connection with its own ``http.client`` connection, a fixed
number of connections for a fixed time per endpoint after a warm-up, every request's latency
kept; the board and commodity page also as a signed-in reader (a session cookie from the
bench app's ``/_bench/sign-in``). MARKET_BENCH_BASELINE=/path/to/another/checkout also
measures the pages as that checkout serves them (before/after). Goal: board p95 under 100 ms
and at least a third of the bare endpoint's throughput.
"""

from __future__ import annotations

import http.client
import json
import math
import os
import random
import secrets
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from flask_migrate import upgrade
from sqlalchemy import create_engine, make_url, select, text

from benchmarks.common import database_urls, fresh_app, record, temp_dir
from market import create_app
from market.catalogue.models import HOME_PROVINCE_CODE, Commodity, Market, Unit
from market.catalogue.services import load_reference_data
from market.extensions import db
from market.prices.models import PriceSource
from market.prices.series import rebuild_all
from market.prices.warnings import compute_anomalies

GENERATOR = 2  # bump when the generated data changes: cached databases are then rebuilt
SEED = 20260417
END = date(2026, 4, 17)
DAYS = 1826  # five years, every day
MARKETS = 30
SOURCE_NAME = "Bảng giá tổng hợp (dữ liệu sinh cho benchmark)"
PG_DATABASE = "market_bench_prices"

# As docs/deploy.md runs it (sync workers), one worker per core of this 2-core machine.
WORKER_CLASS, WORKERS, THREADS = "sync", 2, 1
CONNECTIONS = 8
CLIENT_PROCESSES = 2
WARMUP = 3.0
DURATION = 20.0

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
COLUMNS = (
    "source_id",
    "commodity_id",
    "market_id",
    "price_type",
    "observed_on",
    "price",
    "price_min",
    "price_max",
    "unit_code",
    "currency",
    "status",
    "raw_text",
    "fetched_at",
    "created_at",
    "updated_at",
)


# ---------------------------------------------------------------------------
# The data
# ---------------------------------------------------------------------------


def _cache_key() -> str:
    return f"g{GENERATOR}-{DAYS}x{MARKETS}"


def _plan() -> dict:
    """Commodities, markets, units and the source, from the freshly loaded reference data."""
    commodities = list(db.session.scalars(select(Commodity).order_by(Commodity.id)))
    units = {u.code: u for u in db.session.scalars(select(Unit))}
    markets = list(db.session.scalars(select(Market).where(Market.kind == "province")))
    markets.sort(key=lambda m: (m.province_code != HOME_PROVINCE_CODE, m.code))
    markets = sorted(markets[:MARKETS], key=lambda m: m.id)
    source = PriceSource(
        name=SOURCE_NAME,
        kind="html_table",
        url="http://127.0.0.1/bang-gia",
        enabled=False,
        settings={},
    )
    db.session.add(source)
    db.session.flush()
    groups = []  # (commodity id, [price types], unit code of the page, factor to base, base)
    for index, commodity in enumerate(commodities):
        unit = units[commodity.default_unit_code]
        factor = float(unit.factor_to_base) if unit.factor_to_base is not None else 1.0
        base = unit.base_unit if unit.factor_to_base is not None else unit.code
        types = ["wholesale"] if index % 3 else ["farm_gate"]
        if index == 0:  # the 80th group: the first commodity's retail prices too
            types.append("retail")
        groups.append((commodity.id, types, unit.code, factor, base))
    return {
        "source_id": source.id,
        "groups": groups,
        "market_ids": [m.id for m in markets],
        "busy": commodities[0].code,
    }


def _series(rng: random.Random, plan: dict, *, pg: bool):
    """Yield each series' rows (a list of tuples or of COPY text lines), in index order."""
    first = END - timedelta(days=DAYS - 1)
    days = [(first + timedelta(days=i)).isoformat() for i in range(DAYS)]
    now = datetime.now(UTC)
    stamp = now.isoformat() if pg else now.replace(tzinfo=None).isoformat(sep=" ")
    source_id = plan["source_id"]
    for commodity_id, types, unit, factor, base in plan["groups"]:
        # A typical price per printed unit, a trend over the five years and a yearly season.
        typical = math.exp(rng.uniform(math.log(3_000), math.log(250_000)))
        growth = rng.uniform(-0.3, 0.8)
        season = rng.uniform(0.0, 0.08)
        low_month = rng.randrange(12)
        common, level = [], 0.0
        for i in range(DAYS):
            level = 0.98 * level + rng.gauss(0, 0.01)
            month = (i // 30 + low_month) % 12
            common.append(
                typical * (1 + growth) ** (i / DAYS) * (1 - season * math.cos(month / 6 * math.pi))
                + typical * level
            )
        step = 100 if typical >= 10_000 else 10
        for market_id in plan["market_ids"]:
            for price_type in types:
                local = rng.uniform(0.9, 1.1) * (1.08 if price_type == "retail" else 1.0)
                own = 0.0
                rows = []
                # A market misses a few days a year (holidays, no trading), so series differ.
                missing = set(rng.sample(range(DAYS), rng.randrange(40)))
                for i in range(DAYS):
                    own = 0.9 * own + rng.gauss(0, 0.004)
                    printed = max(step, round(common[i] * local * (1 + own) / step) * step)
                    price = round(printed / factor, 2)
                    low = round(printed * 0.98 / factor, 2)
                    high = round(printed * 1.02 / factor, 2)
                    if i in missing:
                        continue
                    raw = f"{printed:,} đ/{unit}".replace(",", ".")
                    if pg:
                        rows.append(
                            f"{source_id}\t{commodity_id}\t{market_id}\t{price_type}\t{days[i]}\t"
                            f"{price:.2f}\t{low:.2f}\t{high:.2f}\t{base}\tVND\tok\t{raw}\t"
                            f"{stamp}\t{stamp}\t{stamp}\n"
                        )
                    else:
                        rows.append(
                            (
                                source_id,
                                commodity_id,
                                market_id,
                                price_type,
                                days[i],
                                price,
                                low,
                                high,
                                base,
                                "VND",
                                "ok",
                                raw,
                                stamp,
                                stamp,
                                stamp,
                            )
                        )
                yield rows


def _load_sqlite(path: Path, plan: dict) -> int:
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA journal_mode=OFF")  # for the load only: a throwaway file
    con.execute("PRAGMA synchronous=OFF")
    con.execute("PRAGMA cache_size=-400000")
    # The secondary indexes are built once after the load, from their own DDL (unchanged).
    indexes = con.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' "
        "AND tbl_name = 'price_observation' AND sql IS NOT NULL"
    ).fetchall()
    for name, _ in indexes:
        con.execute(f'DROP INDEX "{name}"')
    sql = (
        f"INSERT INTO price_observation ({', '.join(COLUMNS)}) "
        f"VALUES ({', '.join('?' * len(COLUMNS))})"
    )
    count = 0
    con.execute("BEGIN")
    for rows in _series(random.Random(SEED), plan, pg=False):
        con.executemany(sql, rows)
        count += len(rows)
        if count % 500_000 < len(rows):
            con.execute("COMMIT")
            con.execute("BEGIN")
    con.execute("COMMIT")
    for _, ddl in indexes:
        con.execute(ddl)
    con.execute("PRAGMA journal_mode=WAL")  # as the application runs it
    con.close()
    return count


def _psycopg_url(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _load_pg(url: str, plan: dict) -> int:
    import psycopg

    count = 0
    sql = f"COPY price_observation ({', '.join(COLUMNS)}) FROM STDIN"
    with psycopg.connect(_psycopg_url(url)) as conn, conn.cursor() as cur:
        # The secondary indexes (not the constraints') are built once after the load, from
        # their own DDL (unchanged).
        indexes = cur.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'price_observation' "
            "AND indexname NOT IN (SELECT conname FROM pg_constraint)"
        ).fetchall()
        for name, _ in indexes:
            cur.execute(f'DROP INDEX "{name}"')
        with cur.copy(sql) as copy:
            buffer: list[str] = []
            for rows in _series(random.Random(SEED), plan, pg=True):
                buffer.extend(rows)
                count += len(rows)
                if len(buffer) >= 50_000:
                    copy.write("".join(buffer))
                    buffer.clear()
            copy.write("".join(buffer))
        for _, ddl in indexes:
            cur.execute(ddl)
    return count


def _summaries(app) -> dict:
    """rebuild_all() then compute_anomalies(), each timed, in one committed transaction each."""
    with app.app_context():
        started = time.perf_counter()
        series = rebuild_all()
        db.session.commit()
        rebuild = time.perf_counter() - started
        started = time.perf_counter()
        warned = compute_anomalies(today=END)
        db.session.commit()
        anomalies = time.perf_counter() - started
        db.session.remove()
        db.engine.dispose()
    return {"series": series, "rebuild": rebuild, "anomalies": anomalies, "warned": warned}


def _prepare_sqlite(url: str, tmp: Path) -> dict:
    target = Path(url.removeprefix("sqlite:///"))
    cached = DATA / f"prices-{_cache_key()}.sqlite3"
    meta_file = cached.with_suffix(".json")
    if cached.exists() and meta_file.exists() and not os.environ.get("MARKET_BENCH_FRESH"):
        meta = json.loads(meta_file.read_text())
        shutil.copyfile(cached, target)
        app = cached_app(url, tmp)
        meta.update(_summaries(app), cached=True)
        return meta
    app = fresh_app(url, tmp)
    with app.app_context():
        load_reference_data()
        plan = _plan()
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    started = time.perf_counter()
    rows = _load_sqlite(target, plan)
    load = time.perf_counter() - started
    meta = {"rows": rows, "load": load, "busy": plan["busy"], "generated": _today()}
    meta.update(_summaries(app), cached=False)
    con = sqlite3.connect(target)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    DATA.mkdir(exist_ok=True)
    for old in DATA.glob("prices-*"):
        old.unlink()
    shutil.copyfile(target, cached)
    meta_file.write_text(json.dumps({k: meta[k] for k in ("rows", "load", "busy", "generated")}))
    return meta


def cached_app(url: str, tmp: Path):
    """The application over an existing (cached) database, migrated to the code's head."""
    app = create_app(
        {
            "SECRET_KEY": "bench",
            "SQLALCHEMY_DATABASE_URI": url,
            "MARKET_INSTANCE_PATH": str(tmp),
            "MARKET_BASE_URL": "http://bench.local",
        }
    )
    with app.app_context():
        upgrade()
        db.session.remove()
    return app


def _bench_pg_url(url: str) -> str:
    """The benchmark's own database on the same server, created if missing."""
    own = make_url(url).set(database=PG_DATABASE)
    admin = create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.scalar(
            text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": PG_DATABASE}
        )
        if not exists:
            conn.execute(text(f'CREATE DATABASE "{PG_DATABASE}"'))
    admin.dispose()
    return own.render_as_string(hide_password=False)


def _prepare_pg(url: str, tmp: Path) -> dict:
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        comment = conn.scalar(
            text(
                "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = :n"
            ),
            {"n": PG_DATABASE},
        )
    engine.dispose()
    meta = json.loads(comment) if comment and comment.startswith("{") else {}
    if meta.get("key") == _cache_key() and not os.environ.get("MARKET_BENCH_FRESH"):
        app = cached_app(url, tmp)
        meta.update(_summaries(app), cached=True)
        return meta
    app = fresh_app(url, tmp)
    with app.app_context():
        load_reference_data()
        plan = _plan()
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    started = time.perf_counter()
    rows = _load_pg(url, plan)
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("VACUUM ANALYZE price_observation"))  # what autovacuum would do
    load = time.perf_counter() - started
    meta = {"rows": rows, "load": load, "busy": plan["busy"], "generated": _today()}
    meta.update(_summaries(app), cached=False)
    with engine.connect() as conn:
        conn.execute(text("VACUUM ANALYZE"))
        saved = {k: meta[k] for k in ("rows", "load", "busy", "generated")}
        saved["key"] = _cache_key()
        conn.execute(text(f"COMMENT ON DATABASE \"{PG_DATABASE}\" IS '{json.dumps(saved)}'"))
    engine.dispose()
    return meta


def _today() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d")


def _size(name: str, url: str) -> str:
    if name == "SQLite":
        path = Path(url.removeprefix("sqlite:///"))
        return f"{path.stat().st_size / 2**30:.2f} GiB file"
    engine = create_engine(url)
    with engine.connect() as conn:
        table = conn.scalar(text("SELECT pg_total_relation_size('price_observation')"))
    engine.dispose()
    return f"{table / 2**30:.2f} GiB table with its indexes"


# ---------------------------------------------------------------------------
# The server and the client
# ---------------------------------------------------------------------------


BENCH_SECRET = secrets.token_hex(16)


def _sign_in(port: int) -> str:
    """A signed-in reader's session cookie (``name=value``), from the bench app's sign-in."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request("POST", "/_bench/sign-in")
    response = conn.getresponse()
    response.read()
    conn.close()
    cookie = response.getheader("Set-Cookie", "")
    if response.status != 200 or "=" not in cookie:
        raise RuntimeError(f"sign-in: {response.status}, no session cookie")
    return cookie.split(";", 1)[0]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start_server(url: str, tmp: Path, port: int, root: Path = ROOT) -> subprocess.Popen:
    """gunicorn serving ``benchmarks.bench_app`` from ``root`` (this checkout, or a baseline)."""
    env = dict(
        os.environ,
        MARKET_BENCH_APP_DATABASE_URL=url,
        MARKET_BENCH_APP_INSTANCE=str(tmp),
        MARKET_BENCH_APP_SECRET=BENCH_SECRET,  # one for all workers: the session cookie
        PYTHONPATH=str(root),
    )
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--bind",
            f"127.0.0.1:{port}",
            "--worker-class",
            WORKER_CLASS,
            "--workers",
            str(WORKERS),
            "--threads",
            str(THREADS),  # more than one turns sync workers into gthread ones
            "--log-level",
            "warning",
            "benchmarks.bench_app:app",
        ],
        cwd=root,
        env=env,
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/_bench/bare")
            if conn.getresponse().status == 200:
                conn.close()
                return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("gunicorn did not start")


def _stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    proc.wait(timeout=30)


def _check(port: int, path: str, needle: str, cookie: str = "") -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request("GET", path.replace("{n}", "check"), headers=_headers(cookie))
    response = conn.getresponse()
    body = response.read().decode()
    conn.close()
    if response.status != 200 or needle not in body:
        raise RuntimeError(f"{path}: {response.status}, {needle!r} not in the page")
    return len(body.encode())


def _headers(cookie: str) -> dict[str, str]:
    return {"Cookie": cookie} if cookie else {}


def client(
    port: int, path: str, threads: int, start: float, duration: float, cookie: str = ""
) -> dict:
    """Hit ``path`` from ``threads`` keep-alive connections from ``start`` (time.time()),
    as the signed-in reader whose session ``cookie`` is given, or as new visitors.

    A ``{n}`` in ``path`` becomes a number unique to each request: a URL nobody asked for
    before (in an argument the page reads), so the page is rendered afresh every time."""
    headers = _headers(cookie)
    latencies: list[list[float]] = [[] for _ in range(threads)]
    errors = [0] * threads
    ends = [0.0] * threads

    def work(index: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        mine = latencies[index]
        while time.time() < start:
            time.sleep(0.001)
        deadline = time.perf_counter() + duration
        count = 0
        while (now := time.perf_counter()) < deadline:
            count += 1
            try:
                conn.request("GET", path.replace("{n}", f"{index}-{count}"), headers=headers)
                response = conn.getresponse()
                response.read()
                ok = response.status == 200
            except (http.client.HTTPException, OSError):
                conn.close()
                ok = False
            if ok:
                mine.append((time.perf_counter() - now) * 1000)
            else:
                errors[index] += 1
        ends[index] = time.perf_counter() - deadline + duration
        conn.close()

    pool = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return {
        "latencies": [v for values in latencies for v in values],
        "errors": sum(errors),
        "elapsed": max(ends),
    }


def _load(
    port: int,
    path: str,
    *,
    duration: float,
    processes: int = CLIENT_PROCESSES,
    cookie: str = "",
) -> dict:
    """CONNECTIONS connections split over ``processes`` client processes, started together."""
    start = time.time() + 2.5  # after the client processes' imports
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "benchmarks.prices",
                "client",
                str(port),
                path,
                str(CONNECTIONS // processes),
                repr(start),
                repr(duration),
                cookie,
            ],
            cwd=ROOT,
            stdout=subprocess.PIPE,
        )
        for _ in range(processes)
    ]
    results = [json.loads(p.communicate()[0]) for p in procs]
    latencies = sorted(v for r in results for v in r["latencies"])
    rate = sum(len(r["latencies"]) / r["elapsed"] for r in results)
    return {
        "rate": rate,
        "median": statistics.median(latencies),
        "p95": latencies[max(0, math.ceil(0.95 * len(latencies)) - 1)],
        "count": len(latencies),
        "errors": sum(r["errors"] for r in results),
    }


def _alone(port: int, path: str, count: int = 30, cookie: str = "") -> float:
    """The median latency of ``count`` requests one after the other on one connection."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    times = []
    for i in range(count):
        started = time.perf_counter()
        conn.request("GET", path.replace("{n}", f"alone-{i}"), headers=_headers(cookie))
        conn.getresponse().read()
        times.append((time.perf_counter() - started) * 1000)
    conn.close()
    return statistics.median(times)


def _measure(port: int, path: str, cookie: str = "") -> dict:
    _load(port, path, duration=WARMUP, cookie=cookie)
    result = _load(port, path, duration=DURATION, cookie=cookie)
    result["alone"] = _alone(port, path, cookie=cookie)
    return result


def _wait_for_quiet(limit: float = 1.0, patience: float = 600) -> float:
    deadline = time.monotonic() + patience
    while os.getloadavg()[0] >= limit and time.monotonic() < deadline:
        time.sleep(10)
    return os.getloadavg()[0]


# ---------------------------------------------------------------------------
# The run
# ---------------------------------------------------------------------------


def run() -> None:
    baseline = os.environ.get("MARKET_BENCH_BASELINE")  # another checkout, for before/after
    lines = [
        f"Data: 80 series groups (the 79 catalogue commodities, the first also as retail "
        f"prices) × {MARKETS} province markets × {DAYS:,} days (5 years to {END:%d/%m/%Y}; "
        "each market misses 0–39 random days), one source.",
        f"Server: gunicorn {_version('gunicorn')} in a subprocess on 127.0.0.1, {WORKERS} "
        f"{WORKER_CLASS} workers{f' × {THREADS} threads' if THREADS > 1 else ''} (as "
        "docs/deploy.md runs it, one worker per core), no access log, no tuning; the bare "
        "endpoint (`benchmarks/bench_app.py`: a 3-byte text response, no database, no "
        "template) on the same server, workers and Flask stack.",
        f"Client: {CLIENT_PROCESSES} Python processes × {CONNECTIONS // CLIENT_PROCESSES} "
        f"threads, an `http.client` connection each ({CONNECTIONS} at once; sync workers "
        f"close it after each response), {WARMUP:.0f} s warm-up then {DURATION:.0f} s per "
        "endpoint, every request's latency kept; no cookies (each request a new visitor) "
        "except in the signed-in reader's rows; on "
        "the same 2 cores as the server. “Alone”: median of 30 requests one after another.",
        "",
    ]
    summary: list[str] = []
    with temp_dir() as tmp:
        for name, url in database_urls(Path(tmp)):
            if name == "PostgreSQL":
                url = _bench_pg_url(url)
                meta = _prepare_pg(url, Path(tmp))
            else:
                meta = _prepare_sqlite(url, Path(tmp))
            lines += _describe(name, url, meta)
            busy = meta["busy"]
            endpoints = [
                ("bare Flask endpoint", "/_bench/bare", "ok", False),
                ("`/prices` (board)", "/prices", "board-item", False),
                (
                    "`/prices` (board) rendered afresh every time¹",
                    "/prices?type=fresh{n}",
                    "board-item",
                    False,
                ),
                (
                    f"`/prices/{busy}` (1 year, weekly)",
                    f"/prices/{busy}",
                    '<svg class="chart"',
                    False,
                ),
                (
                    f"`/prices/{busy}?period=5y` (monthly)",
                    f"/prices/{busy}?period=5y",
                    '<svg class="chart"',
                    False,
                ),
                (
                    f"`/prices/{busy}` (1 year) rendered afresh every time¹",
                    f"/prices/{busy}?type=fresh{{n}}",
                    '<svg class="chart"',
                    False,
                ),
                ("`/prices` (board), signed-in reader²", "/prices", "Bạn đọc thử", True),
                (
                    f"`/prices/{busy}` (1 year), signed-in reader²",
                    f"/prices/{busy}",
                    "Bạn đọc thử",
                    True,
                ),
            ]
            load = _wait_for_quiet()
            port = _free_port()
            server = _start_server(url, Path(tmp), port)
            try:
                cookie = _sign_in(port)
                sizes = {
                    (path, signed): _check(port, path, needle, cookie if signed else "")
                    for _, path, needle, signed in endpoints
                }
                one = _load(port, "/_bench/bare", duration=DURATION / 2, processes=1)
                two = _load(port, "/_bench/bare", duration=DURATION / 2, processes=2)
                results = [
                    (label, (path, signed), _measure(port, path, cookie if signed else ""))
                    for label, path, _, signed in endpoints
                ]
            finally:
                _stop(server)
            if baseline:
                server = _start_server(url, Path(tmp), port, root=Path(baseline))
                try:
                    for label, path, needle, signed in endpoints[1:]:
                        if signed:
                            continue  # the baseline has no bench sign-in
                        _check(port, path, needle)
                        results.append((f"{label}, baseline", (path, False), _measure(port, path)))
                finally:
                    _stop(server)
            load_after = os.getloadavg()[0]
            bare = results[0][2]["rate"]
            lines += [
                f"Load average (1 min): {load:.2f} before, {load_after:.2f} after. Client check "
                f"on the bare endpoint: {one['rate']:,.0f} req/s from one client process, "
                f"{two['rate']:,.0f} from two.",
                "",
                "| endpoint | KB | req/s | median ms | p95 ms | ÷ bare req/s | alone ms | errors |",
                "|---|---|---|---|---|---|---|---|",
            ]
            for label, key, r in results:
                lines.append(
                    f"| {label} | {sizes[key] / 1024:.0f} | **{r['rate']:,.0f}** "
                    f"| {r['median']:.1f} | **{r['p95']:.1f}** | {r['rate'] / bare:.3f} "
                    f"| {r['alone']:.1f} | {r['errors']} |"
                )
            lines.append("")
            board, fresh, signed_in = results[1][2], results[2][2], results[6][2]
            verdict = "met" if board["p95"] < 100 and board["rate"] >= bare / 3 else "not met"
            summary.append(
                f"{name}: board p95 {board['p95']:.0f} ms, {board['rate'] / bare:.3f} × the bare "
                f"endpoint's throughput: goal {verdict}. Rendered afresh every time: p95 "
                f"{fresh['p95']:.0f} ms, {fresh['rate'] / bare:.3f} × bare. Signed-in reader: "
                f"p95 {signed_in['p95']:.0f} ms, {signed_in['rate'] / bare:.3f} × bare."
            )
    lines += [
        "Goal: board p95 under 100 ms and at least a third of the bare endpoint's throughput.",
        *summary,
        "",
        "¹ Visitors who are not signed in share one rendering of each page until the prices "
        "change (market/site/pagecache.py: the cache is keyed on the series' version stamp, "
        "checked at most once a second, and on the query arguments the page reads); the "
        "plain rows are what they get. A price type unique to each request (`?type=fresh…`: "
        "read, found unknown, so the whole board) defeats the cache and shows the cost of "
        "rendering: what the first visitor after new prices waits for.",
        "² The same pages for a signed-in reader (session cookie from the bench app's "
        "`/_bench/sign-in`): the layout, with the reader's name and menu, is rendered per "
        "request around the board or commodity body shared by every reader "
        "(`cached_fragment`); no ETag.",
    ]
    if baseline:
        lines.append(f"Baseline rows: the same server and data, code from `{baseline}`.")
    record("Price board under load", "make bench BENCH=prices", lines)


def _describe(name: str, url: str, meta: dict) -> list[str]:
    load = f"{meta['load']:.0f} s" + (
        f" (cached copy, generated {meta['generated']})" if meta["cached"] else ""
    )
    how = "executemany, journal and sync off" if name == "SQLite" else "COPY, then VACUUM ANALYZE"
    return [
        f"### {name}",
        "",
        f"{meta['rows']:,} observations, {_size(name, url)}; load {load} ({how}); "
        f"`rebuild_all()` of {meta['series']:,} series {meta['rebuild']:.1f} s; "
        f"`compute_anomalies()` {meta['anomalies']:.1f} s ({meta['warned']} warnings).",
        "",
    ]


def _version(package: str) -> str:
    from importlib.metadata import version

    return version(package)


def _client_main(argv: list[str]) -> None:
    port, path, threads, start, duration, cookie = argv
    result = client(int(port), path, int(threads), float(start), float(duration), cookie)
    sys.stdout.write(json.dumps(result))


if __name__ == "__main__":
    if sys.argv[1:2] == ["client"]:
        _client_main(sys.argv[2:])
    else:
        run()
