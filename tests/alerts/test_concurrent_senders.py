"""Two senders at once deliver every row exactly once (PostgreSQL: SKIP LOCKED; SQLite:
BEGIN IMMEDIATE). These rows are committed for real, so the test cleans up after itself."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from sqlalchemy import delete, select

from market.alerts.models import OutboxMessage, OutboxStatus
from market.alerts.services import deliver_outbox
from market.extensions import db


@pytest.fixture
def committed_outbox(app):
    yield
    with app.app_context():
        db.session.execute(delete(OutboxMessage))
        db.session.commit()
        db.session.remove()


def test_two_senders_deliver_each_row_exactly_once(app, committed_outbox, smtp_server) -> None:
    with app.app_context():
        db.session.add_all(
            OutboxMessage(
                dedupe_key=f"parallel:{i}",
                kind="account",
                recipient=f"nguoi{i}@example.com",
                subject=f"Thư {i}",
                text_body="Nội dung",
                html_body="<p>Nội dung</p>",
            )
            for i in range(300)
        )
        db.session.commit()
        db.session.remove()
    app.config["MARKET_OUTBOX_BATCH"] = 20
    reports, errors = [], []
    barrier = threading.Barrier(2)

    def sender() -> None:
        try:
            with app.app_context():
                barrier.wait()
                reports.append(deliver_outbox())
                db.session.remove()
        except Exception as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=sender) for _ in range(2)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
    finally:
        app.config["MARKET_OUTBOX_BATCH"] = 200
    assert errors == []
    ids = Counter(m["Message-ID"] for m in smtp_server.messages)
    assert len(ids) == 300 and set(ids.values()) == {1}
    assert sum(r.sent for r in reports) == 300
    # Both senders did part of the work.
    assert all(r.sent > 0 for r in reports), [str(r) for r in reports]
    with app.app_context():
        statuses = set(db.session.scalars(select(OutboxMessage.status)))
        db.session.remove()
    assert statuses == {OutboxStatus.sent}
