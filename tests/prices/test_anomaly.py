"""Price anomaly warnings: the FAO IPA worked by hand, its fallback, thresholds and data quality."""

from __future__ import annotations

import math
import random
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from market.prices.anomaly import (
    FallbackResult,
    IpaResult,
    Level,
    Unavailable,
    assess,
    classify,
    compute_fallback,
    compute_ipa,
    equal_weights,
    fallback,
    ipa,
    linear_weights,
    monthly_averages,
    quality,
)

Month = tuple[int, int]


def months_from(start: Month, prices: list[float]) -> dict[Month, float]:
    out = {}
    for i, p in enumerate(prices):
        index = start[0] * 12 + start[1] - 1 + i
        out[(index // 12, index % 12 + 1)] = p
    return out


def as_points(monthly: dict[Month, float]) -> list[tuple[date, float]]:
    """One observation mid-month, so each month's average is that price."""
    return [(date(y, m, 15), p) for (y, m), p in monthly.items()]


def weekly(start: date, prices: list[float]) -> list[tuple[date, float]]:
    return [(start + timedelta(weeks=i), p) for i, p in enumerate(prices)]


# --- the worked example ---------------------------------------------------------------------


def worked_series() -> dict[Month, float]:
    """Five years, 2019–2023: price = 100 + 10·(year − 2019) + month; Dec 2023 jumps to 160."""
    monthly = {(y, m): 100.0 + 10 * (y - 2019) + m for y in range(2019, 2024) for m in range(1, 13)}
    monthly[(2023, 12)] = 160.0
    return monthly


def test_worked_example_by_hand() -> None:
    log = math.log
    # December has both rates in 2020–2023 (2019 lacks December 2018): four years, weights 1–4.
    # Quarterly: (ln P[Dec] − ln P[Sep]) / 3.      Sep of year y = 109 + 10·(y − 2019).
    q = [
        (log(122) - log(119)) / 3,  # 2020
        (log(132) - log(129)) / 3,  # 2021
        (log(142) - log(139)) / 3,  # 2022
        (log(160) - log(149)) / 3,  # 2023, the assessed month
    ]
    # Annual: (ln P[Dec y] − ln P[Dec y−1]) / 12.   Dec 2019 = 112.
    a = [
        (log(122) - log(112)) / 12,
        (log(132) - log(122)) / 12,
        (log(142) - log(132)) / 12,
        (log(160) - log(142)) / 12,
    ]
    w = [1, 2, 3, 4]  # linear: oldest 1 … newest 4; Σw = 10
    mean_q = (1 * q[0] + 2 * q[1] + 3 * q[2] + 4 * q[3]) / 10
    sd_q = math.sqrt(
        (
            1 * (q[0] - mean_q) ** 2
            + 2 * (q[1] - mean_q) ** 2
            + 3 * (q[2] - mean_q) ** 2
            + 4 * (q[3] - mean_q) ** 2
        )
        / 10
    )
    mean_a = (1 * a[0] + 2 * a[1] + 3 * a[2] + 4 * a[3]) / 10
    sd_a = math.sqrt(
        (
            1 * (a[0] - mean_a) ** 2
            + 2 * (a[1] - mean_a) ** 2
            + 3 * (a[2] - mean_a) ** 2
            + 4 * (a[3] - mean_a) ** 2
        )
        / 10
    )
    ipa_q = (q[3] - mean_q) / sd_q
    ipa_a = (a[3] - mean_a) / sd_a
    expected = 0.4 * ipa_q + 0.6 * ipa_a

    result = ipa(worked_series())

    assert result is not None
    assert result.month == (2023, 12)
    assert result.years_used == len(w) == 4
    assert result.cqgr == pytest.approx(q[3], abs=1e-12)
    assert result.cagr == pytest.approx(a[3], abs=1e-12)
    assert result.ipa_quarterly == pytest.approx(ipa_q, abs=1e-9)
    assert result.ipa_annual == pytest.approx(ipa_a, abs=1e-9)
    assert result.value == pytest.approx(expected, abs=1e-9)
    assert result.level == Level.ALERT  # ≈ 1.21, near the 4-year cap of sqrt(6 / 4)
    assert expected <= math.sqrt((10 - 4) / 4)


def test_equal_weights_are_the_plain_mean_and_population_sd() -> None:
    log = math.log
    a = [(log(b) - log(c)) / 12 for b, c in [(122, 112), (132, 122), (142, 132), (160, 142)]]
    q = [(log(b) - log(c)) / 3 for b, c in [(122, 119), (132, 129), (142, 139), (160, 149)]]
    mean_a, mean_q = sum(a) / 4, sum(q) / 4
    sd_a = math.sqrt(sum((x - mean_a) ** 2 for x in a) / 4)
    sd_q = math.sqrt(sum((x - mean_q) ** 2 for x in q) / 4)
    expected = 0.4 * (q[3] - mean_q) / sd_q + 0.6 * (a[3] - mean_a) / sd_a

    result = ipa(worked_series(), weights=equal_weights)

    assert result is not None
    assert result.value == pytest.approx(expected, abs=1e-9)
    assert result.value != pytest.approx(ipa(worked_series()).value)


def test_a_past_month_uses_only_years_up_to_it() -> None:
    monthly = worked_series()
    result = ipa(monthly, month=(2022, 12))
    assert result is not None and result.years_used == 3
    assert result == ipa({m: p for m, p in monthly.items() if m <= (2022, 12)})


def test_weights_must_fit_the_years() -> None:
    assert linear_weights(3) == [1.0, 2.0, 3.0]
    with pytest.raises(ValueError):
        ipa(worked_series(), weights=lambda n: [1.0] * (n - 1))
    with pytest.raises(ValueError):
        ipa(worked_series(), weights=lambda n: [0.0] * n)


# --- too short ------------------------------------------------------------------------------


def test_fewer_than_48_months_gives_no_ipa_with_a_reason() -> None:
    monthly = months_from((2020, 1), [100.0 + i for i in range(47)])
    assert ipa(monthly) is None
    result = compute_ipa(monthly)
    assert isinstance(result, Unavailable)
    assert "47 months" in result.reason

    monthly[(2023, 12)] = 150.0  # the 48th month: exactly the minimum
    assert ipa(monthly) is not None
    assert ipa(monthly).years_used == 3


def test_missing_month_or_missing_growth_base_gives_a_reason() -> None:
    monthly = months_from((2018, 1), [100.0 + i for i in range(60)])
    assert "no price for 2030-01" in compute_ipa(monthly, month=(2030, 1)).reason
    del monthly[(2022, 9)]
    assert "3 or 12 months before" in compute_ipa(monthly).reason
    assert compute_ipa({}).reason == "no prices"


def test_assess_on_three_weeks_is_none() -> None:
    points = weekly(date(2024, 1, 1), [100.0, 101.0, 102.0])
    assert assess(points, today=date(2024, 1, 20)) is None
    assert "needs 8" in compute_fallback(points, today=date(2024, 1, 20)).reason


# --- thresholds -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "level"),
    [
        (0.0, Level.NORMAL),
        (0.49, Level.NORMAL),
        (0.5, Level.WATCH),
        (0.99, Level.WATCH),
        (1.0, Level.ALERT),
        (3.2, Level.ALERT),
        (-0.49, Level.NORMAL),
        (-0.5, Level.LOW),
        (-0.6, Level.LOW),
        (-0.99, Level.LOW),
        (-1.0, Level.FALL),
        (-2.5, Level.FALL),
    ],
)
def test_ipa_levels(value: float, level: Level) -> None:
    assert classify(value) == level


@pytest.mark.parametrize(
    ("z", "level"),
    [
        (1.99, Level.NORMAL),
        (2.0, Level.WATCH),
        (3.0, Level.ALERT),
        (-1.99, Level.NORMAL),
        (-2.0, Level.LOW),
        (-2.99, Level.LOW),
        (-3.0, Level.FALL),
    ],
)
def test_robust_z_levels(z: float, level: Level) -> None:
    assert classify(z, watch=2, alert=3) == level


def series_with_ipa(target: float) -> dict[Month, float]:
    """Eight noisy seasonal years whose last price is bisected until the IPA is ``target``."""
    rng = random.Random(7)
    monthly = months_from(
        (2016, 1),
        [
            1000 * (1 + 0.1 * math.sin(i * math.pi / 6)) * (1.004**i) * rng.uniform(0.95, 1.05)
            for i in range(96)
        ],
    )
    last = max(monthly)
    base = monthly[last]
    lo, hi = -3.0, 3.0
    for _ in range(200):
        mid = (lo + hi) / 2
        monthly[last] = base * math.exp(mid)
        if ipa(monthly).value < target:
            lo = mid
        else:
            hi = mid
    return monthly


@pytest.mark.parametrize(
    ("target", "level"),
    [
        (0.0, Level.NORMAL),
        (0.75, Level.WATCH),
        (1.3, Level.ALERT),
        (-0.75, Level.LOW),
        (-1.3, Level.FALL),
    ],
)
def test_each_level_end_to_end(target: float, level: Level) -> None:
    monthly = series_with_ipa(target)
    points = as_points(monthly)
    result = assess(points, today=points[-1][0] + timedelta(days=1))
    assert result is not None
    assert result.method == "ipa"
    assert result.month == (2023, 12)
    assert result.week is None
    assert result.value == pytest.approx(target, abs=1e-6)
    assert result.level == level
    assert result.detail["years_used"] == 7


# --- fallback -------------------------------------------------------------------------------


def test_a_spike_is_an_alert() -> None:
    baseline = [100, 102, 98, 101, 99, 103, 97, 100, 101, 99, 100, 102]
    points = weekly(date(2024, 1, 1), [*baseline, 130])
    result = fallback(points, today=date(2024, 3, 27))
    assert isinstance(result, FallbackResult)
    assert result.method == "robust_z"
    assert result.baseline_weeks == 12
    assert result.median == 100.0
    assert result.mad == 1.0  # deviations 0,0,0,1,1,1,1,2,2,2,3,3
    assert result.value == pytest.approx(30 / 1.4826)
    assert result.level == Level.ALERT
    assert result.week == (2024, 13)


def test_a_flat_series_with_tiny_noise_is_normal_thanks_to_the_mad_floor() -> None:
    noise = [0.0, 0.01, -0.01, 0.005, -0.005, 0.0, 0.01, -0.01, 0.0, 0.005]
    points = weekly(date(2024, 1, 1), [100.0 + n for n in noise] + [100.05])
    result = fallback(points, today=date(2024, 3, 20))
    assert result is not None
    assert result.scale == pytest.approx(1.0)  # 1 % of the median, not 1.4826·MAD ≈ 0.007
    assert result.value == pytest.approx(0.05, abs=1e-9)
    assert result.level == Level.NORMAL


@pytest.mark.parametrize(("last", "z", "level"), [(102.0, 2.0, Level.WATCH), (97.0, -3.0, "fall")])
def test_the_mad_floor_sets_the_scale_on_a_flat_series(last: float, z: float, level: str) -> None:
    points = weekly(date(2024, 1, 1), [100.0] * 8 + [last])
    result = fallback(points, today=date(2024, 3, 1))
    assert result is not None
    assert result.mad == 0.0
    assert result.scale == 1.0
    assert result.value == z
    assert result.level == level


def test_fallback_uses_the_26_weeks_before_the_latest_and_ignores_the_future() -> None:
    old = weekly(date(2023, 1, 2), [500.0] * 10)  # more than 26 weeks before: not baseline
    recent = weekly(date(2023, 10, 2), [100.0] * 8 + [103.0])
    future = [(date(2024, 6, 3), 900.0)]
    result = fallback(old + recent + future, today=date(2023, 12, 1))
    assert result is not None
    assert result.baseline_weeks == 8
    assert result.median == 100.0
    assert result.level == Level.ALERT


def test_weekly_average_of_daily_prices() -> None:
    days = [(date(2024, 1, 1) + timedelta(days=i), 100.0) for i in range(63)]
    days += [(date(2024, 3, 4), 104.0), (date(2024, 3, 5), 106.0)]  # that week averages 105
    result = fallback(days, today=date(2024, 3, 5))
    assert result is not None
    assert result.latest == 105.0
    assert result.value == 5.0


def test_assess_uses_the_fallback_when_the_ipa_cannot_run() -> None:
    points = weekly(date(2024, 1, 1), [100.0] * 20 + [140.0])
    result = assess(points, today=date(2024, 5, 21))
    assert result is not None
    assert result.method == "robust_z"
    assert result.level == Level.ALERT
    assert result.week == (2024, 21)
    assert result.month is None
    assert "months of prices" in result.detail["ipa_unavailable"]
    assert result.quality.score < 0.5  # under half a year of data


# --- monthly averages -----------------------------------------------------------------------


def test_monthly_averages() -> None:
    points = [
        (date(2024, 2, 1), 100.0),
        (date(2024, 1, 31), 30.0),
        (date(2024, 1, 1), 10.0),
        (datetime(2024, 1, 15, 8, 30), Decimal("20")),
        (date(2024, 2, 29), 200.0),
        (date(2024, 2, 10), 0.0),  # not a price
        (date(2024, 2, 11), float("nan")),
    ]
    assert monthly_averages(points) == {(2024, 1): 20.0, (2024, 2): 150.0}
    assert list(monthly_averages(points)) == [(2024, 1), (2024, 2)]
    assert monthly_averages([]) == {}


# --- quality --------------------------------------------------------------------------------


def test_quality_of_a_long_complete_fresh_series_is_one() -> None:
    start = date(2020, 1, 1)
    points = [(start + timedelta(days=i), 100.0) for i in range(4 * 365)]
    q = quality(points, today=points[-1][0])
    assert (q.score, q.length, q.gaps, q.staleness) == (1.0, 1.0, 1.0, 1.0)


def test_quality_counts_missing_weeks() -> None:
    points = weekly(date(2024, 1, 1), [100.0] * 20)
    del points[5:10]  # 5 of 20 weeks missing
    q = quality(points, today=date(2024, 5, 13))
    assert q.gaps == 0.75
    assert q.length == pytest.approx((19 * 7 / 365.25) / 3)
    assert q.score == pytest.approx(q.length * 0.75 * 1.0)
    assert "5 of 20 weeks without a price" in q.notes


def test_quality_counts_missing_months_for_a_monthly_series() -> None:
    monthly = months_from((2021, 1), [100.0] * 36)
    for m in [(2022, 3), (2022, 4), (2023, 1)]:
        del monthly[m]
    q = quality(as_points(monthly), today=date(2023, 12, 20))
    assert q.gaps == pytest.approx(33 / 36)
    assert "3 of 36 months without a price" in q.notes


@pytest.mark.parametrize(("age", "score"), [(0, 1.0), (7, 1.0), (8, 52 / 53), (33, 27 / 53)])
def test_staleness(age: int, score: float) -> None:
    points = weekly(date(2020, 1, 6), [100.0] * 200)
    q = quality(points, today=points[-1][0] + timedelta(days=age))
    assert q.staleness == pytest.approx(score)
    assert q.score == pytest.approx(score)


@pytest.mark.parametrize("age", [60, 400])
def test_stale_series_scores_zero(age: int) -> None:
    points = weekly(date(2020, 1, 6), [100.0] * 200)
    assert quality(points, today=points[-1][0] + timedelta(days=age)).score == 0.0


def test_quality_of_nothing() -> None:
    q = quality([(date(2030, 1, 1), 5.0)], today=date(2024, 1, 1))
    assert q.score == 0.0
    assert q.notes == ("1 prices ignored (not a positive number, or after today)", "no prices")


# --- properties -----------------------------------------------------------------------------

positive_scale = st.floats(min_value=0.01, max_value=1000, allow_nan=False, allow_infinity=False)


@given(
    prices=st.lists(st.integers(min_value=50, max_value=500), min_size=48, max_size=72),
    factor=positive_scale,
)
def test_ipa_is_scale_invariant(prices: list[int], factor: float) -> None:
    monthly = months_from((2018, 1), [float(p) for p in prices])
    scaled = {m: p * factor for m, p in monthly.items()}
    a, b = ipa(monthly), ipa(scaled)
    assert isinstance(a, IpaResult) and isinstance(b, IpaResult)
    assert b.value == pytest.approx(a.value, abs=1e-6)


@given(
    prices=st.lists(st.integers(min_value=50, max_value=500), min_size=9, max_size=30),
    factor=positive_scale,
)
def test_fallback_z_is_scale_invariant(prices: list[int], factor: float) -> None:
    points = weekly(date(2024, 1, 1), [float(p) for p in prices])
    scaled = [(d, p * factor) for d, p in points]
    today = points[-1][0]
    a, b = fallback(points, today=today), fallback(scaled, today=today)
    assert a is not None and b is not None
    assert b.value == pytest.approx(a.value, rel=1e-9, abs=1e-9)
    assert b.median == pytest.approx(a.median * factor)


@given(
    start=st.floats(min_value=1, max_value=1e6),
    rate=st.floats(min_value=-0.05, max_value=0.05),
    months=st.integers(min_value=48, max_value=120),
)
def test_constant_growth_has_zero_ipa(start: float, rate: float, months: int) -> None:
    monthly = months_from((2015, 1), [start * math.exp(rate * i) for i in range(months)])
    result = ipa(monthly)
    assert result is not None
    assert result.ipa_quarterly == 0.0
    assert result.ipa_annual == 0.0
    assert result.value == 0.0
    assert result.level == Level.NORMAL
    assert result.cagr == pytest.approx(rate, abs=1e-12)
