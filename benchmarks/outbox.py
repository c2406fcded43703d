"""10,000 queued e-mails delivered to a local SMTP server.

Anchors, in the same run and against the same server: the bare cost of SMTP over one reused
connection (no database), and the naive sender that opens a connection per message.
Goal: at least 200 messages per second through the outbox.
"""

from __future__ import annotations

import smtplib
import socket
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import insert

from benchmarks.common import database_urls, fresh_app, record, temp_dir
from market.alerts import mailer
from market.alerts.models import OutboxMessage
from market.alerts.services import deliver_outbox
from market.extensions import db

COUNT = 10_000
NAIVE_COUNT = 1_000  # a connection per message is slow; a tenth is enough to measure


def _start_server(port: int) -> subprocess.Popen:
    """aiosmtpd in its own process (a sink), so it does not share our interpreter's lock."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "aiosmtpd",
            "-n",
            "-l",
            f"127.0.0.1:{port}",
            "-c",
            "aiosmtpd.handlers.Sink",
        ],
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
    raise RuntimeError("aiosmtpd did not start")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _rows(n: int) -> list[dict]:
    return [
        {
            "dedupe_key": f"bench:{i}",
            "kind": "account",
            "recipient": f"nguoi.nhan{i}@example.com",
            "locale": "vi",
            "subject": f"Bản tin giá nông sản số {i}",
            "text_body": "Giá cà phê hôm nay tăng 500 đ/kg.\n" * 20,
            "html_body": "<p>Giá cà phê hôm nay tăng <b>500 đ/kg</b>.</p>" * 20,
            "status": "queued",
            "attempts": 0,
        }
        for i in range(n)
    ]


def run() -> None:
    port = _free_port()
    smtp = _start_server(port)
    lines = [
        f"{COUNT:,} queued messages (text + HTML, ~2 KB each) to an aiosmtpd sink on 127.0.0.1,",
        "in a process of its own. Anchors in the same run: the same messages over bare SMTP",
        "(no database), on one reused connection and on a connection per message.",
        "",
        "| database | outbox sender | msg/s | bare SMTP, one connection "
        "| naive, connection per message | outbox ÷ bare | outbox ÷ naive |",
        "|---|---|---|---|---|---|---|",
    ]
    try:
        with temp_dir() as tmp:
            for name, url in database_urls(Path(tmp)):
                app = fresh_app(
                    url,
                    Path(tmp),
                    MARKET_SMTP_HOST="127.0.0.1",
                    MARKET_SMTP_PORT=port,
                    MARKET_OUTBOX_BATCH=500,
                )
                with app.app_context():
                    now = __import__("market.db", fromlist=["utcnow"]).utcnow()
                    rows = _rows(COUNT)
                    for r in rows:
                        r["created_at"] = r["next_attempt_at"] = now
                    db.session.execute(insert(OutboxMessage), rows)
                    db.session.commit()
                    started = time.perf_counter()
                    report = deliver_outbox()
                    outbox_seconds = time.perf_counter() - started
                    assert report.sent == COUNT, report
                    bare_rate, naive_rate = _anchors(app)
                    db.session.remove()
                    db.engine.dispose()
                rate = COUNT / outbox_seconds
                lines.append(
                    f"| {name} | {outbox_seconds:.1f} s | **{rate:,.0f}** | {bare_rate:,.0f} msg/s "
                    f"| {naive_rate:,.0f} msg/s | {rate / bare_rate:.2f} "
                    f"| {rate / naive_rate:.1f} |"
                )
    finally:
        smtp.terminate()
        smtp.wait(timeout=10)
    lines += ["", "Goal: at least 200 msg/s with connection reuse."]
    record("Outbox delivery", "make bench BENCH=outbox", lines)


def _anchors(app) -> tuple[float, float]:
    """The same messages, built and sent without a database: on one connection, then on a
    connection each (the naive sender)."""
    rows = _rows(COUNT)

    def build(row: dict) -> mailer.OutgoingEmail:
        rendered = mailer.RenderedEmail(
            subject=row["subject"], text=row["text_body"], html=row["html_body"]
        )
        return mailer.build_message(to=row["recipient"], rendered=rendered)

    started = time.perf_counter()
    conn = mailer.open_smtp()
    for row in rows:
        mailer.deliver(conn, build(row))
    conn.quit()
    bare = COUNT / (time.perf_counter() - started)
    started = time.perf_counter()
    for row in rows[:NAIVE_COUNT]:
        with smtplib.SMTP(app.config["MARKET_SMTP_HOST"], app.config["MARKET_SMTP_PORT"]) as c:
            mailer.deliver(c, build(row))
    naive = NAIVE_COUNT / (time.perf_counter() - started)
    return bare, naive


if __name__ == "__main__":
    run()
