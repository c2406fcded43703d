"""Two ``market scheduler`` processes started together: each job runs once per trigger, and
the second takes over when the first stops. Real processes, a real SMTP server."""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.orm import Session

from market.alerts.models import OutboxMessage
from market.config import normalise_database_url
from market.scheduler.models import JobRun
from tests.conftest import TEST_DATABASE_URL

MARKET = str(Path(sys.executable).with_name("market"))


@pytest.fixture
def scheduler_database(tmp_path: Path):
    """A database of its own: the processes commit for real."""
    if TEST_DATABASE_URL.startswith("postgres"):
        admin = create_engine(
            normalise_database_url(TEST_DATABASE_URL), isolation_level="AUTOCOMMIT"
        )
        with admin.connect() as conn:
            conn.execute(text("DROP DATABASE IF EXISTS market_scheduler_test WITH (FORCE)"))
            conn.execute(text("CREATE DATABASE market_scheduler_test"))
        base = normalise_database_url(TEST_DATABASE_URL).rsplit("/", 1)[0]
        url = f"{base}/market_scheduler_test"
        yield url
        with admin.connect() as conn:
            conn.execute(text("DROP DATABASE IF EXISTS market_scheduler_test WITH (FORCE)"))
        admin.dispose()
    else:
        yield f"sqlite:///{tmp_path / 'scheduler.sqlite3'}"


def _env(tmp_path: Path, url: str, smtp_port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MARKET_")}
    env.update(
        MARKET_INSTANCE_PATH=str(tmp_path),
        MARKET_DATABASE_URL=url,
        MARKET_SMTP_HOST="127.0.0.1",
        MARKET_SMTP_PORT=str(smtp_port),
        MARKET_OUTBOX_INTERVAL_SECONDS="1",
        MARKET_SCHEDULER_HEARTBEAT_SECONDS="1",
        MARKET_SCHEDULER_LOCK_TTL_SECONDS="8",
    )
    return env


def _queue(engine, key: str) -> None:
    with Session(engine) as session:
        session.add(
            OutboxMessage(
                dedupe_key=key,
                kind="account",
                recipient=f"{key}@example.com",
                subject=key,
                text_body="t",
                html_body="<p>t</p>",
            )
        )
        session.commit()


def test_two_schedulers_run_each_job_once(tmp_path, scheduler_database, smtp_server) -> None:
    env = _env(tmp_path, scheduler_database, smtp_server.port)
    init = subprocess.run([MARKET, "init"], env=env, capture_output=True, text=True, timeout=120)
    assert init.returncode == 0, init.stderr
    engine = create_engine(normalise_database_url(scheduler_database))
    _queue(engine, "truoc")

    procs = [
        subprocess.Popen(
            [MARKET, "scheduler"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(2)
    ]
    try:
        time.sleep(6)
        _queue(engine, "giua")
        time.sleep(3)
        with Session(engine) as session:
            runs = list(session.scalars(select(JobRun).where(JobRun.job == "send_outbox")))
        holders = {r.holder for r in runs}
        assert len(holders) == 1, holders
        first_holder = holders.pop()
        first = next(p for p in procs if first_holder.endswith(f":{p.pid}"))
        second = next(p for p in procs if p is not first)

        # Stop the lease holder: the other one takes over after the lease expires.
        first.send_signal(signal.SIGTERM)
        first.wait(timeout=20)
        _queue(engine, "sau")
        time.sleep(12)  # the lease (8 s without heartbeat) expires, then the other one runs
    finally:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        outputs = [p.communicate(timeout=20)[0] for p in procs]

    with Session(engine) as session:
        runs = list(
            session.scalars(select(JobRun).where(JobRun.job == "send_outbox").order_by(JobRun.id))
        )
    engine.dispose()
    by_holder = Counter(r.holder for r in runs)
    assert set(by_holder) == {first_holder, f"{first_holder.split(':')[0]}:{second.pid}"}, outputs
    # Once per trigger: never two runs of the same job within the same second.
    starts = [r.started_at for r in runs]
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(starts)]
    assert min(gaps) > 0.5, gaps
    assert all(r.status == "ok" for r in runs)
    delivered = Counter(m["Subject"] for m in smtp_server.messages)
    assert delivered == {"truoc": 1, "giua": 1, "sau": 1}
