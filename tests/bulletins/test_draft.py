"""Drafting: the figures of a known dataset, computed by hand here; periods; drafting again."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from market.accounts.models import User
from market.bulletins import services
from market.bulletins.compute import period_of
from market.bulletins.models import Bulletin
from market.errors import DomainError
from market.extensions import db
from tests.bulletins.conftest import MONDAY, TODAY

Q = Decimal("0.0001")


def _pct(now: Decimal, before: Decimal) -> Decimal:
    return ((now - before) / before * 100).quantize(Decimal("0.01"))


def _rows(bulletin):
    return {(i.commodity_id, i.market_id): i for i in bulletin.items}


def test_periods() -> None:
    week = period_of("week", date(2026, 4, 15))
    assert (week.start, week.end) == (date(2026, 4, 13), date(2026, 4, 19))
    assert week.previous().start == date(2026, 4, 6)
    assert week.year_ago().start == date(2025, 4, 14)  # a Monday again
    assert week.year_ago().start.weekday() == 0
    month = period_of("month", date(2024, 2, 10))
    assert (month.start, month.end) == (date(2024, 2, 1), date(2024, 2, 29))
    assert month.previous().start == date(2024, 1, 1)
    assert month.year_ago().end == date(2023, 2, 28)
    assert services.resolve_period("week", today=TODAY).start == MONDAY  # last complete week
    assert services.resolve_period("month", today=TODAY).start == date(2026, 3, 1)
    with pytest.raises(DomainError):
        services.resolve_period("week", date(2026, 5, 4), today=TODAY)
    with pytest.raises(DomainError):
        services.resolve_period("year", today=TODAY)


def test_draft_has_the_hand_computed_figures(ctx, prices) -> None:
    outcome = services.draft_bulletin(actor=None, period="week", today=TODAY)
    assert outcome.created
    bulletin = outcome.bulletin
    assert (bulletin.period_start, bulletin.period_end) == (MONDAY, date(2026, 4, 19))
    assert bulletin.status == "draft" and bulletin.version == 1
    assert bulletin.title == "Bản tin giá cả thị trường tuần 16/2026 (13/04–19/04/2026)"
    rows = _rows(bulletin)
    assert set(rows) == {
        (prices.coffee, None),
        (prices.coffee, prices.dak_lak),
        (prices.coffee, prices.quang_tri),
        (prices.pepper, prices.quang_tri),
    }

    # Đắk Lắk: days 87.000 (two sources), 85.000, 90.000; the flagged and rejected prices and
    # the days outside the week do not count.
    dak_lak = rows[(prices.coffee, prices.dak_lak)]
    average = (Decimal(87000 + 85000 + 90000) / 3).quantize(Q)
    assert dak_lak.average == average == Decimal("87333.3333")
    assert (dak_lak.minimum, dak_lak.maximum) == (Decimal(85000), Decimal(91000))
    assert (dak_lak.days, dak_lak.observations, dak_lak.sources) == (3, 4, 2)
    assert dak_lak.previous_average == Decimal(81000)  # (80.000 + 82.000) / 2
    assert dak_lak.previous_change == _pct(average, Decimal(81000)) == Decimal("7.82")
    assert dak_lak.year_ago_average == Decimal(50000)
    assert dak_lak.year_ago_change == _pct(average, Decimal(50000)) == Decimal("74.67")
    assert dak_lak.anomaly_level == "alert" and not dak_lak.included  # not a Quảng Trị market

    quang_tri = rows[(prices.coffee, prices.quang_tri)]
    assert quang_tri.average == Decimal(85000)  # (84.000 + 86.000) / 2
    assert quang_tri.previous_average == Decimal(80000)
    assert quang_tri.previous_change == Decimal("6.25")
    assert quang_tri.year_ago_average is None and quang_tri.year_ago_change is None
    assert quang_tri.anomaly_level is None and quang_tri.included

    # All markets: every (market, day) price once: (87 + 85 + 90 + 84 + 86) / 5 thousand.
    both = rows[(prices.coffee, None)]
    assert both.average == Decimal(86400) and both.markets == 2 and both.included
    assert (both.minimum, both.maximum) == (Decimal(84000), Decimal(91000))
    assert (both.days, both.observations, both.sources) == (5, 6, 2)
    previous = (Decimal(80000 + 82000 + 80000) / 3).quantize(Q)
    assert both.previous_average == previous == Decimal("80666.6667")
    assert both.previous_change == _pct(Decimal(86400), previous) == Decimal("7.11")
    # A year ago only Đắk Lắk reported: the change compares Đắk Lắk with Đắk Lắk.
    assert both.year_ago_average == Decimal(50000)
    assert both.year_ago_change == Decimal("74.67")
    assert both.anomaly_level == "alert"  # its markets' strongest warning

    # A commodity with one market has no "all markets" row; its market row is included.
    pepper = rows[(prices.pepper, prices.quang_tri)]
    assert pepper.included and pepper.previous_change == _pct(Decimal(140000), Decimal(150000))
    assert pepper.previous_change == Decimal("-6.67")

    # Order: industrial crops' coffee before pepper, "all markets" first, Quảng Trị next.
    keys = [(i.commodity_id, i.market_id) for i in bulletin.items]
    assert keys.index((prices.coffee, None)) < keys.index((prices.coffee, prices.quang_tri))
    assert keys.index((prices.coffee, prices.quang_tri)) < keys.index(
        (prices.coffee, prices.dak_lak)
    )


def test_movers_take_one_row_per_commodity(ctx, prices) -> None:
    bulletin = services.draft_bulletin(actor=None, period="week", today=TODAY).bulletin
    up, down = services.movers(bulletin)
    assert [(i.commodity_id, i.market_id) for i in up] == [(prices.coffee, None)]
    assert [(i.commodity_id, i.market_id) for i in down] == [(prices.pepper, prices.quang_tri)]


def test_drafting_again_updates_the_draft_and_keeps_the_edits(ctx, prices, official) -> None:
    first = services.draft_bulletin(actor=None, period="week", today=TODAY).bulletin
    official = db.session.get(User, official.id)
    choices = {
        i.id: services.ItemChoice(
            included=True, position=1000 - i.position, note="Ghi chú" if i.market_id else None
        )
        for i in first.items
    }
    services.update_bulletin(
        actor=official,
        bulletin=first,
        title="Bản tin tuần 16",
        commentary="Giá **ổn định**.",
        sections=["prices", "commentary"],
        items=choices,
    )
    second = services.draft_bulletin(actor=None, period="week", day=MONDAY, today=TODAY)
    assert not second.created and second.bulletin.id == first.id
    count = db.session.scalar(select(func.count(Bulletin.id)))
    assert count == 1
    again = second.bulletin
    assert again.title == "Bản tin tuần 16" and again.commentary == "Giá **ổn định**."
    assert again.sections == ["prices", "commentary"]
    assert all(i.included for i in again.items)
    assert [i.position for i in again.items] == sorted(i.position for i in again.items)
    assert {i.note for i in again.items if i.market_id} == {"Ghi chú"}


def test_nothing_to_draft_without_prices(ctx, prices) -> None:
    with pytest.raises(DomainError, match="Không có giá"):
        services.draft_bulletin(actor=None, period="week", day=date(2020, 1, 8), today=TODAY)


def test_a_month(ctx, prices) -> None:
    bulletin = services.draft_bulletin(
        actor=None, period="month", day=date(2026, 4, 1), today=TODAY
    ).bulletin
    rows = _rows(bulletin)
    # April in Đắk Lắk: 6 and 7 April, the bulletin's week, and 20 April.
    dak_lak = rows[(prices.coffee, prices.dak_lak)]
    days = [80000, 82000, 87000, 85000, 90000, 10000]
    assert dak_lak.average == (Decimal(sum(days)) / 6).quantize(Q) == Decimal("72333.3333")
    assert dak_lak.days == 6
    assert dak_lak.previous_average == Decimal(10000)  # March: 14 March only


def test_two_drafts_of_one_period_at_once_give_a_message(ctx, prices, monkeypatch) -> None:
    """The weekly job and an official's "Draft now" both found no draft and insert version 1."""
    services.draft_bulletin(actor=None, period="week", today=TODAY)
    db.session.commit()
    monkeypatch.setattr(services, "latest_version", lambda kind, start: None)  # the stale read
    with pytest.raises(DomainError, match=re.escape(str(services.DRAFTED_ELSEWHERE))):
        services.draft_bulletin(actor=None, period="week", today=TODAY)
    # Only the savepoint was rolled back: the transaction goes on.
    assert db.session.scalar(select(func.count(Bulletin.id))) == 1


def test_a_row_note_too_long_names_its_row(ctx, prices, official) -> None:
    bulletin = services.draft_bulletin(actor=None, period="week", today=TODAY).bulletin
    item = bulletin.items[0]
    choices = {
        i.id: services.ItemChoice(i.included, i.position, "x" * (services.MAX_NOTE + 1))
        if i.id == item.id
        else services.ItemChoice(False, i.position, "Ghi chú")
        for i in bulletin.items
    }
    with pytest.raises(DomainError) as raised:
        services.update_bulletin(
            actor=db.session.get(User, official.id),
            bulletin=bulletin,
            title="Bản tin",
            commentary="",
            sections=["prices"],
            items=choices,
        )
    assert raised.value.field == f"item-{item.id}-note"
    assert all(i.note is None for i in bulletin.items)  # no row was changed before the check


def test_all_markets_carry_only_warnings(ctx, prices) -> None:
    """Ranked as the board ranks them; "normal" and "low" are not warnings."""
    from market.prices.models import PriceSeries

    def set_levels(dak_lak: str | None, quang_tri: str | None) -> None:
        for series in db.session.scalars(
            select(PriceSeries).where(PriceSeries.commodity_id == prices.coffee)
        ):
            level = dak_lak if series.market_id == prices.dak_lak else quang_tri
            series.anomaly_level, series.anomaly_method = level, "robust_z"

    set_levels("normal", "watch")
    bulletin = services.draft_bulletin(actor=None, period="week", today=TODAY).bulletin
    assert _rows(bulletin)[(prices.coffee, None)].anomaly_level == "watch"
    set_levels("normal", "low")
    bulletin = services.draft_bulletin(actor=None, period="week", today=TODAY).bulletin
    both = _rows(bulletin)[(prices.coffee, None)]
    assert both.anomaly_level is None
    assert _rows(bulletin)[(prices.coffee, prices.quang_tri)].anomaly_level == "low"
