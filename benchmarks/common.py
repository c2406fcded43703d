"""What the benchmarks share: a throwaway migrated database and the results file."""

from __future__ import annotations

import os
import platform
import secrets
import subprocess
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import create_engine, text

from market import create_app
from market.config import normalise_database_url
from market.extensions import db

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"


def database_urls(tmp: Path) -> list[tuple[str, str]]:
    """SQLite always; PostgreSQL too when MARKET_BENCH_DATABASE_URL (or the test URL) is set."""
    urls = [("SQLite", f"sqlite:///{tmp / 'bench.sqlite3'}")]
    pg = os.environ.get("MARKET_BENCH_DATABASE_URL") or os.environ.get("MARKET_TEST_DATABASE_URL")
    if pg:
        urls.append(("PostgreSQL", normalise_database_url(pg)))
    return urls


def fresh_app(url: str, tmp: Path, **config) -> Flask:
    engine = create_engine(url)
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).unlink(missing_ok=True)
    settings = {
        "SECRET_KEY": secrets.token_hex(16),
        "SQLALCHEMY_DATABASE_URI": url,
        "MARKET_INSTANCE_PATH": str(tmp),
        "MARKET_BASE_URL": "http://bench.local",
    }
    settings.update(config)
    app = create_app(settings)
    with app.app_context():
        upgrade()
        db.session.remove()
    return app


def temp_dir() -> tempfile.TemporaryDirectory:
    return tempfile.TemporaryDirectory(prefix="market-bench-")


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover
        cores = os.cpu_count()
    return f"{platform.node()} · {cpu} · {cores} cores · Python {platform.python_version()}"


def record(title: str, command: str, lines: list[str]) -> None:
    """Append one run's results to RESULTS.md (newest last), and print them."""
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
    ).stdout.strip()
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    block = [
        f"## {title}",
        "",
        f"{stamp} · commit {commit or '?'} · {machine()}",
        f"Command: `{command}`",
        "",
        *lines,
        "",
    ]
    text_block = "\n".join(block)
    print(text_block)
    if not RESULTS.exists():
        RESULTS.write_text("# Benchmark results\n\nEach run appends its section; newest last.\n\n")
    with RESULTS.open("a") as fh:
        fh.write(text_block + "\n")
