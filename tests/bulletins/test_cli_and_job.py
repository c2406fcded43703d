"""``market bulletins draft`` and the Monday job."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from jobs.runner import JOBS
from market.accounts.models import User
from market.alerts.models import OutboxMessage
from market.bulletins import services
from market.bulletins.models import Bulletin
from market.cli import bulletins_group
from market.extensions import db


def test_cli_draft_twice_updates_one_draft(app, prices, official) -> None:
    runner = app.test_cli_runner()
    first = runner.invoke(
        cli=bulletins_group, args=["draft", "--period", "week", "--date", "2026-04-15"]
    )
    assert first.exit_code == 0, first.output
    assert (
        "drafted week 2026-04-13–2026-04-19" in first.output
        and "4 rows, 3 included" in first.output
    )
    second = runner.invoke(cli=bulletins_group, args=["draft", "--date", "15/04/2026", "--notify"])
    assert second.exit_code == 0, second.output
    assert (
        "recomputed the existing draft" in second.output and "1 officials e-mailed" in second.output
    )
    with app.test_request_context():
        assert db.session.scalar(select(func.count(Bulletin.id))) == 1
        bulletin = db.session.scalar(select(Bulletin))
        services.publish_bulletin(actor=db.session.get(User, official.id), bulletin=bulletin)
        db.session.commit()
    third = runner.invoke(cli=bulletins_group, args=["draft", "--date", "2026-04-15"])
    assert third.exit_code == 1
    assert "đã được xuất bản" in third.output
    month = runner.invoke(
        cli=bulletins_group, args=["draft", "--period", "month", "--date", "2026-04-01"]
    )
    assert month.exit_code == 0 and "drafted month 2026-04-01–2026-04-30" in month.output
    bad = runner.invoke(cli=bulletins_group, args=["draft", "--period", "year"])
    assert bad.exit_code == 2


def test_the_job_runs_on_monday_morning_in_vietnam(app) -> None:
    spec = JOBS["bulletin_weekly"]
    trigger = spec.trigger(app)
    saigon = ZoneInfo("Asia/Ho_Chi_Minh")
    fire = trigger.get_next_fire_time(None, datetime(2026, 4, 15, 12, 0, tzinfo=saigon))
    assert fire == datetime(2026, 4, 20, 6, 0, tzinfo=saigon)
    assert fire.weekday() == 0


class _Monday(date):
    @classmethod
    def today(cls) -> date:
        return date(2026, 4, 20)


def test_the_job_drafts_last_week_and_tells_the_officials(
    ctx, prices, official, monkeypatch
) -> None:
    monkeypatch.setattr(services, "date", _Monday)
    message = JOBS["bulletin_weekly"].func()
    assert "drafted week 2026-04-13–2026-04-19" in message and "1 officials e-mailed" in message
    (mail,) = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.kind == "bulletin_draft")
    )
    assert mail.recipient == official.email
    assert mail.subject == "Bản nháp bản tin đã sẵn sàng: tuần 16/2026 (13/04–19/04/2026)"
    assert "/department/bulletins/" in mail.text_body and "/edit" in mail.text_body
    # A second run the same morning recomputes the draft and does not e-mail again.
    again = JOBS["bulletin_weekly"].func()
    assert "recomputed" in again and "0 officials e-mailed" in again
    assert db.session.scalar(select(func.count(Bulletin.id))) == 1


def test_the_job_without_prices_does_not_fail(ctx, monkeypatch) -> None:
    monkeypatch.setattr(services, "date", _Monday)
    assert JOBS["bulletin_weekly"].func().startswith("no draft:")
