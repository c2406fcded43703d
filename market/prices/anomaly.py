"""Price anomaly warnings: how the warning is computed.

Every price series gets at most one warning level, computed by one of two methods. Both use
only the series' own history, so a price is "unusual" relative to how that commodity at that
market usually moves, not relative to other commodities. Prices must be positive; zero,
negative and non-finite values and observations dated after ``today`` are ignored.

**1. FAO Indicator of Price Anomalies (IPA)** — used when the series is long enough.
Following FAO GIEWS (Baquedano 2015, *Developing an indicator of price anomalies as an early
warning tool: a compound growth approach*, FAO, Rome):

* Daily prices are averaged per calendar month (``monthly_averages``). The current month is
  the month-to-date average.
* For month *t* of year *y*, the compound growth rates are, with natural logarithms,
  quarterly ``CQGR = (ln P[t] − ln P[t−3]) / 3`` and annual ``CAGR = (ln P[t] − ln P[t−12]) / 12``.
* Each rate is compared with the rates of the *same calendar month* in the other years, which
  removes the normal seasonal pattern (e.g. prices rising every year before Tết). A year takes
  part when the prices for *t*, *t−3* and *t−12* all exist; only years up to the assessed one
  are used, so a past month's value does not change when new data arrive. With the *n* years
  taking part ordered oldest to newest, year *i* has weight ``w_i = i`` (linear: 1 for the
  oldest … *n* for the assessed year itself), so recent years count more. Then
  ``mean = Σ w_i·x_i / Σ w_i``, ``sd = sqrt(Σ w_i·(x_i − mean)² / Σ w_i)`` (population form),
  and ``IPA_q = (CQGR − mean_q) / sd_q``, ``IPA_a = (CAGR − mean_a) / sd_a``.
* ``IPA = 0.4·IPA_q + 0.6·IPA_a``.
* If a month's growth rate did not vary across the years (``sd < 1e-9``, e.g. a price that
  grows at exactly the same rate every month), that part is 0: the current rate equals the
  usual one, so there is no anomaly (and no division by zero).
* Minimum: 48 months with a price up to and including the assessed month (36 months of
  annual growth rates plus the 12 months the first one needs), and at least 3 years taking
  part for the assessed calendar month. Shorter series use the fallback below.
* Because the assessed year is part of its own baseline (as in FAO's tool), the index is
  capped while the history is short: each part is at most ``sqrt((Σw − w_n) / w_n)``, i.e.
  1.0 with 3 years, 1.22 with 4, 1.41 with 5 (linear weights). An alert therefore needs
  about 4 years of history or more.

Levels: **alert** IPA ≥ 1; **watch** 0.5 ≤ IPA < 1; **normal** −0.5 < IPA < 0.5;
**low** (falling, still within the usual range) −1 < IPA ≤ −0.5; **fall** (unusual fall)
IPA ≤ −1.

**2. Fallback: robust z-score** — used for series of at least 9 weeks but too short for the IPA.
Prices are averaged per ISO week (Monday to Sunday). The latest week with data is compared
with the weekly averages of the 26 weeks before it (at least 8 of them must have data):
``z = (x − median) / max(1.4826·MAD, 0.01·median)``, where MAD is the median absolute
deviation of those weeks. 1.4826·MAD estimates the standard deviation without being thrown by
single outliers; the 1 % floor stops an almost flat series from flagging tiny moves.
Levels: alert z ≥ 3; watch 2 ≤ z < 3; normal −2 < z < 2; low −3 < z ≤ −2; fall z ≤ −3.

**Data quality** (0 to 1, shown next to the warning) is the product of three parts, each 1
when perfect: *length* = years covered (first to last observation) / 3, capped at 1;
*gaps* = 1 − share of expected periods with no price (weeks, or months for series whose
median spacing between observations exceeds 10 days), from the first to the last observation;
*staleness* = 1 if the last price is at most 7 days old, 0 from 60 days, linear in between.
"""

from __future__ import annotations

import itertools
import math
import statistics
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any, Literal

Month = tuple[int, int]  # (year, month)
Week = tuple[int, int]  # (ISO year, ISO week)
Point = tuple[date, float | Decimal]
Weights = Callable[[int], Sequence[float]]

QUARTERLY_SHARE = 0.4
MIN_MONTHS = 48
MIN_YEARS = 3
SD_EPSILON = 1e-9
IPA_WATCH, IPA_ALERT = 0.5, 1.0
Z_WATCH, Z_ALERT = 2.0, 3.0
BASELINE_WEEKS = 26
MIN_BASELINE_WEEKS = 8
MAD_SCALE = 1.4826
MAD_FLOOR = 0.01
FULL_YEARS = 3
FRESH_DAYS, STALE_DAYS = 7, 60


class Level(StrEnum):
    NORMAL = "normal"
    WATCH = "watch"
    ALERT = "alert"
    LOW = "low"
    FALL = "fall"


# The levels shown as warnings, the strongest first.
WARNINGS = (Level.ALERT, Level.FALL, Level.WATCH)


@dataclass(frozen=True)
class Unavailable:
    """Why a method gave no value, for logs and the series page."""

    reason: str


@dataclass(frozen=True)
class IpaResult:
    month: Month
    cqgr: float
    cagr: float
    ipa_quarterly: float
    ipa_annual: float
    value: float
    level: Level
    years_used: int


@dataclass(frozen=True)
class FallbackResult:
    week: Week
    value: float  # the robust z
    level: Level
    latest: float  # the week's average price
    median: float
    mad: float
    scale: float  # max(1.4826·MAD, 1 % of the median)
    baseline_weeks: int
    method: Literal["robust_z"] = "robust_z"


@dataclass(frozen=True)
class Quality:
    score: float
    length: float
    gaps: float
    staleness: float
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Assessment:
    method: Literal["ipa", "robust_z"]
    level: Level
    value: float
    month: Month | None
    week: Week | None
    quality: Quality
    detail: dict[str, Any]


def linear_weights(n: int) -> list[float]:
    """1 for the oldest year … n for the newest, so recent years count more."""
    return [float(i) for i in range(1, n + 1)]


def equal_weights(n: int) -> list[float]:
    """Every year counts the same."""
    return [1.0] * n


def classify(value: float, *, watch: float = IPA_WATCH, alert: float = IPA_ALERT) -> Level:
    """Map an IPA (or, with watch=2, alert=3, a robust z) to a level; boundaries as documented."""
    if value >= alert:
        return Level.ALERT
    if value >= watch:
        return Level.WATCH
    if value <= -alert:
        return Level.FALL
    if value <= -watch:
        return Level.LOW
    return Level.NORMAL


def _clean(points: Iterable[Point], today: date | None = None) -> list[tuple[date, float]]:
    """Usable points, sorted: positive finite prices, dates on or before ``today``."""
    out = []
    for day, price in points:
        d = day.date() if isinstance(day, datetime) else day
        p = float(price)
        if math.isfinite(p) and p > 0 and (today is None or d <= today):
            out.append((d, p))
    out.sort(key=lambda dp: dp[0])
    return out


def monthly_averages(points: Iterable[Point]) -> dict[Month, float]:
    """Mean price per calendar month, the unit the IPA works in."""
    buckets: dict[Month, list[float]] = {}
    for d, p in _clean(points):
        buckets.setdefault((d.year, d.month), []).append(p)
    return {m: statistics.fmean(v) for m, v in sorted(buckets.items())}


def _shift(month: Month, by: int) -> Month:
    index = month[0] * 12 + month[1] - 1 + by
    return index // 12, index % 12 + 1


def _standardise(values: Sequence[float], weights: Sequence[float]) -> float:
    """(last − weighted mean) / weighted sd; 0 when the values do not vary."""
    total = math.fsum(weights)
    mean = math.fsum(w * x for w, x in zip(weights, values, strict=True)) / total
    var = math.fsum(w * (x - mean) ** 2 for w, x in zip(weights, values, strict=True)) / total
    sd = math.sqrt(var)
    return 0.0 if sd < SD_EPSILON else (values[-1] - mean) / sd


def compute_ipa(
    monthly: Mapping[Month, float],
    *,
    month: Month | None = None,
    weights: Weights = linear_weights,
) -> IpaResult | Unavailable:
    """The IPA for ``month`` (default: the latest month with a price), or why there is none."""
    prices = {m: float(p) for m, p in monthly.items() if math.isfinite(p) and p > 0}
    if not prices:
        return Unavailable("no prices")
    target = max(prices) if month is None else month
    if target not in prices:
        return Unavailable(f"no price for {target[0]}-{target[1]:02d}")
    history = sum(1 for m in prices if m <= target)
    if history < MIN_MONTHS:
        return Unavailable(f"{history} months of prices; the IPA needs {MIN_MONTHS}")
    if _shift(target, -3) not in prices or _shift(target, -12) not in prices:
        return Unavailable("no price 3 or 12 months before the assessed month")
    quarterly, annual = [], []
    first = min(prices)
    m = target
    while _shift(m, -12) >= first:
        if m in prices and _shift(m, -3) in prices and _shift(m, -12) in prices:
            log_p = math.log(prices[m])
            quarterly.append((log_p - math.log(prices[_shift(m, -3)])) / 3)
            annual.append((log_p - math.log(prices[_shift(m, -12)])) / 12)
        m = _shift(m, -12)
    years = len(quarterly)
    if years < MIN_YEARS:
        return Unavailable(f"{years} years of growth rates for this month; needs {MIN_YEARS}")
    quarterly.reverse()
    annual.reverse()
    w = list(weights(years))
    if len(w) != years or any(not math.isfinite(x) or x < 0 for x in w) or sum(w) <= 0:
        raise ValueError("weights must give one non-negative weight per year, not all zero")
    ipa_q = _standardise(quarterly, w)
    ipa_a = _standardise(annual, w)
    value = QUARTERLY_SHARE * ipa_q + (1 - QUARTERLY_SHARE) * ipa_a
    return IpaResult(
        month=target,
        cqgr=quarterly[-1],
        cagr=annual[-1],
        ipa_quarterly=ipa_q,
        ipa_annual=ipa_a,
        value=value,
        level=classify(value),
        years_used=years,
    )


def ipa(
    monthly: Mapping[Month, float],
    *,
    month: Month | None = None,
    weights: Weights = linear_weights,
) -> IpaResult | None:
    """The IPA, or None when the series cannot support it (see ``compute_ipa`` for why)."""
    result = compute_ipa(monthly, month=month, weights=weights)
    return result if isinstance(result, IpaResult) else None


def _monday(d: date) -> date:
    return d - timedelta(days=d.weekday())


def _week_of(d: date) -> Week:
    iso = d.isocalendar()
    return iso.year, iso.week


def compute_fallback(points: Iterable[Point], *, today: date) -> FallbackResult | Unavailable:
    """Robust z of the latest weekly average against the previous 26 weeks, or why not."""
    clean = _clean(points, today)
    if not clean:
        return Unavailable("no prices")
    by_monday: dict[date, list[float]] = {}
    for d, p in clean:
        by_monday.setdefault(_monday(d), []).append(p)
    current = max(by_monday)
    start = current - timedelta(weeks=BASELINE_WEEKS)
    baseline = [statistics.fmean(v) for m, v in by_monday.items() if start <= m < current]
    if len(baseline) < MIN_BASELINE_WEEKS:
        return Unavailable(
            f"{len(baseline)} weeks with prices before the latest; needs {MIN_BASELINE_WEEKS}"
        )
    latest = statistics.fmean(by_monday[current])
    median = statistics.median(baseline)
    mad = statistics.median(abs(x - median) for x in baseline)
    scale = max(MAD_SCALE * mad, MAD_FLOOR * median)
    z = (latest - median) / scale
    return FallbackResult(
        week=_week_of(current),
        value=z,
        level=classify(z, watch=Z_WATCH, alert=Z_ALERT),
        latest=latest,
        median=median,
        mad=mad,
        scale=scale,
        baseline_weeks=len(baseline),
    )


def fallback(points: Iterable[Point], *, today: date) -> FallbackResult | None:
    """The robust z fallback, or None when there are too few weeks."""
    result = compute_fallback(points, today=today)
    return result if isinstance(result, FallbackResult) else None


def quality(points: Iterable[Point], *, today: date) -> Quality:
    """How far to trust a warning: long, complete and fresh series score near 1."""
    raw = list(points)
    clean = _clean(raw, today)
    notes = []
    if len(clean) < len(raw):
        notes.append(
            f"{len(raw) - len(clean)} prices ignored (not a positive number, or after today)"
        )
    if not clean:
        return Quality(0.0, 0.0, 0.0, 0.0, (*notes, "no prices"))
    first, last = clean[0][0], clean[-1][0]
    years = (last - first).days / 365.25
    length = min(1.0, years / FULL_YEARS)
    days = sorted({d for d, _ in clean})
    steps = [(b - a).days for a, b in itertools.pairwise(days)]
    if steps and statistics.median(steps) > 10:
        unit = "months"
        seen: set[object] = {(d.year, d.month) for d in days}
        expected = (last.year - first.year) * 12 + last.month - first.month + 1
    else:
        unit = "weeks"
        seen = {_monday(d) for d in days}
        expected = (_monday(last) - _monday(first)).days // 7 + 1
    missing = expected - len(seen)
    gaps = 1 - missing / expected
    age = (today - last).days
    staleness = min(1.0, max(0.0, (STALE_DAYS - age) / (STALE_DAYS - FRESH_DAYS)))
    notes += [
        f"{years:.1f} years of prices",
        f"{missing} of {expected} {unit} without a price",
        f"last price {age} days old",
    ]
    return Quality(length * gaps * staleness, length, gaps, staleness, tuple(notes))


def assess(points: Sequence[Point], *, today: date) -> Assessment | None:
    """The series' warning: the IPA when possible, else the robust z, else None."""
    q = quality(points, today=today)
    clean = _clean(points, today)
    result = compute_ipa(monthly_averages(clean))
    if isinstance(result, IpaResult):
        detail: dict[str, Any] = {
            "cqgr": result.cqgr,
            "cagr": result.cagr,
            "ipa_quarterly": result.ipa_quarterly,
            "ipa_annual": result.ipa_annual,
            "years_used": result.years_used,
        }
        return Assessment("ipa", result.level, result.value, result.month, None, q, detail)
    fb = compute_fallback(clean, today=today)
    if isinstance(fb, Unavailable):
        return None
    detail = {
        "ipa_unavailable": result.reason,
        "latest": fb.latest,
        "median": fb.median,
        "mad": fb.mad,
        "scale": fb.scale,
        "baseline_weeks": fb.baseline_weeks,
    }
    return Assessment("robust_z", fb.level, fb.value, None, fb.week, q, detail)
