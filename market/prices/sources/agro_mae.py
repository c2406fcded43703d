"""The Ministry of Agriculture and Environment's price database (thitruongnongsan.gov.vn).

The page ``/vn/nguonwmy.aspx`` is an ASP.NET WebForms form: results come back only by POSTing
the form with its hidden ``__VIEWSTATE``, 20 rows a page, and further pages by ``__doPostBack``
events. The unit, price type, currency and source are hidden unless their checkboxes are
ticked; without the unit the numbers are ambiguous (đồng/kg next to nghìn đồng/kg in one table),
so ``collect`` always ticks them.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any
from urllib.parse import urljoin

from bs4 import BeautifulSoup, Tag
from flask_babel import gettext as _

from market.prices.fetch import Fetcher, Page
from market.prices.sources.base import (
    Collected,
    ParseResult,
    RawRow,
    Rejection,
    SourceError,
    clean_text,
    is_blank,
    unknown_settings,
)
from market.text import fold

__all__ = [
    "GRID_ID",
    "SETTINGS_HELP",
    "collect",
    "current_page",
    "form_state",
    "pager_targets",
    "parse",
]

SETTINGS_HELP: dict[str, str] = {
    "product_group": 'Ngành hàng to query, as the site lists it: "Cà phê", "Lúa gạo", '
    '"Rau, quả" (required).',
    "product_subgroup": 'Optional Nhóm sản phẩm within the group, e.g. "Trái cây".',
    "period": 'Theo thời gian: "Ngày" (default), "Tuần" or "Tháng".',
    "days": "Length of the date range ending today (default 7).",
    "max_pages": "Most result pages to fetch by postback (default 50).",
    "show_columns": "Tick the Loại giá / Đơn vị tính / Loại tiền / Nguồn columns (default true; "
    "without the unit column prices cannot be read safely).",
    "fixed": 'Field → value for rows that lack it, e.g. {"unit": "đồng/kg"} when the unit '
    "column is not shown.",
}

GRID_ID = "ctl00_maincontent_GridView1"
EMPTY_MESSAGE = "khong co du lieu"
# Folded header → RawRow field; optional columns appear only when their checkbox is ticked.
HEADERS = {
    "ten mat hang": "commodity",
    "mat hang": "commodity",
    "thi truong": "market",
    "ngay": "date",
    "tuan": "date",
    "thang": "date",
    "thoi gian": "date",
    "gia": "price",
    "loai gia": "price_type",
    "don vi tinh": "unit",
    "don vi": "unit",
    "loai tien": "currency",
    "nguon": "source",
}
REQUIRED = ("commodity", "market", "date", "price")
OPTIONAL_COLUMN_LABELS = ("loai gia", "don vi tinh", "loai tien", "nguon")
PERIODS = {"daily": "ngay", "weekly": "tuan", "monthly": "thang"}
# Form fields, found by the end of their (folded) name so that a changed prefix still works.
FROM_FIELD = "$tu_ngay"
TO_FIELD = "$den_ngay"
GROUP_FIELD = "$nganh_hang"
SUBGROUP_FIELD = "$nhom_san_pham"
PERIOD_FIELD = "$theo_thoi_gian"
SUBMIT_FIELD = "$xem"
_POSTBACK = re.compile(r"__doPostBack\(\s*'([^']*)'\s*,\s*'([^']*)'\s*\)")


# ---------------------------------------------------------------------------
# Pure helpers on a page
# ---------------------------------------------------------------------------


def _soup(html: str) -> BeautifulSoup:
    return BeautifulSoup(html, "lxml")


def _form(soup: BeautifulSoup) -> Tag:
    form = soup.find("form", id="aspnetForm") or soup.find("form")
    if not isinstance(form, Tag):
        raise SourceError("expected the ASP.NET form 'aspnetForm'; the page has no form")
    return form


def _state(form: Tag) -> dict[str, str]:
    state: dict[str, str] = {}
    for tag in form.find_all("input"):
        name = tag.get("name")
        if not name:
            continue
        kind = str(tag.get("type") or "text").lower()
        if kind in ("submit", "button", "image", "reset", "file"):
            continue  # a button's value is sent only when it is the one clicked
        if kind in ("checkbox", "radio"):
            if tag.has_attr("checked"):
                state[str(name)] = str(tag.get("value") or "on")
            continue
        state[str(name)] = str(tag.get("value") or "")
    for select in form.find_all("select"):
        name = select.get("name")
        if not name:
            continue
        options = select.find_all("option")
        chosen = [option for option in options if option.has_attr("selected")]
        option = chosen[0] if chosen else (options[0] if options else None)
        state[str(name)] = _option_value(option) if option is not None else ""
    for area in form.find_all("textarea"):
        if area.get("name"):
            state[str(area["name"])] = area.get_text()
    return state


def _option_value(option: Tag) -> str:
    value = option.get("value")
    return str(value) if value is not None else clean_text(option.get_text())


def form_state(html: str) -> dict[str, str]:
    """All hidden inputs and current values of the page's form, as a browser would post them."""
    return _state(_form(_soup(html)))


def _postbacks(scope: Tag) -> list[tuple[str, str]]:
    targets: list[tuple[str, str]] = []
    for link in scope.find_all("a"):
        for attribute in ("href", "onclick"):
            match = _POSTBACK.search(str(link.get(attribute) or ""))
            if match and match.group(2).startswith("Page$") and match.groups() not in targets:
                targets.append((match.group(1), match.group(2)))
    return targets


def pager_targets(html: str) -> list[tuple[str, str]]:
    """``(event target, argument)`` of every pager link, "..." (next block of pages) included."""
    soup = _soup(html)
    grid = soup.find("table", id=GRID_ID)
    return _postbacks(grid if isinstance(grid, Tag) else soup)


def _pager_current(grid: Tag) -> int | None:
    for row in _pager_rows(grid):
        for span in row.find_all("span"):
            text = clean_text(span.get_text())
            if text.isdigit():
                return int(text)
    return None


def current_page(html: str) -> int | None:
    """The page number the GridView shows (the pager's un-linked number), None without pager."""
    grid = _soup(html).find("table", id=GRID_ID)
    return _pager_current(grid) if isinstance(grid, Tag) else None


def _own_rows(table: Tag) -> list[Tag]:
    return [tr for tr in table.find_all("tr") if tr.find_parent("table") is table]


def _is_pager(row: Tag) -> bool:
    classes = " ".join(row.get("class") or [])
    if "pag" in classes.lower():
        return True
    return row.find("table") is not None or bool(_POSTBACK.search(str(row)))


def _pager_rows(grid: Tag) -> list[Tag]:
    return [row for row in _own_rows(grid) if _is_pager(row)]


# ---------------------------------------------------------------------------
# Parsing
# ---------------------------------------------------------------------------


def parse(html: str, *, settings: Mapping[str, Any], today: date) -> ParseResult:
    """Read one result page: data rows, without pager rows; "Không có dữ liệu." is empty."""
    del today  # dates stay text; normalise reads "17-04-2026"
    fixed: Mapping[str, str] = settings.get("fixed") or {}
    soup = _soup(html)
    grid = soup.find("table", id=GRID_ID)
    if not isinstance(grid, Tag):
        if EMPTY_MESSAGE in fold(soup.get_text(" ")):
            return ParseResult(empty=True)
        raise SourceError(
            f"expected the price grid table#{GRID_ID} or the message 'Không có dữ liệu.'"
        )

    rows = _own_rows(grid)
    header_index = next((i for i, row in enumerate(rows) if row.find("th")), None)
    if header_index is None:
        if EMPTY_MESSAGE in fold(grid.get_text(" ")):
            return ParseResult(empty=True)
        raise SourceError(f"the grid table#{GRID_ID} has no header row")
    headers = [clean_text(th.get_text(" ")) for th in rows[header_index].find_all(["th", "td"])]
    fields = [HEADERS.get(fold(header)) for header in headers]
    result = ParseResult()
    missing = [field for field in REQUIRED if field not in fields]
    if missing:
        raise SourceError(
            "expected the grid headers Tên mặt hàng | Thị trường | Ngày | Giá, found "
            + " | ".join(headers)
        )
    unknown = [h for h, f in zip(headers, fields, strict=True) if f is None]
    if unknown:
        result.warnings.append(f"grid columns not read: {', '.join(unknown)}")

    number = 0
    for row in rows[header_index + 1 :]:
        if _is_pager(row):
            continue
        cells = [clean_text(td.get_text(" ")) for td in row.find_all("td", recursive=False)]
        if all(is_blank(cell) for cell in cells):
            continue
        if len(cells) == 1 and EMPTY_MESSAGE in fold(cells[0]):
            result.empty = not result.rows
            continue
        number += 1
        raw = " | ".join(cells)
        if len(cells) != len(headers):
            result.rejected.append(
                Rejection(
                    number,
                    raw,
                    _(
                        "expected %(expected)d cells, found %(found)d",
                        expected=len(headers),
                        found=len(cells),
                    ),
                )
            )
            continue
        values: dict[str, str | None] = {
            field: (cell or None) for field, cell in zip(fields, cells, strict=True) if field
        }
        for field, value in fixed.items():
            if not values.get(field):
                values[field] = str(value)
        if is_blank(values.get("price")):
            result.rejected.append(Rejection(number, raw, _("no price printed")))
            continue
        if not values.get("commodity"):
            result.rejected.append(Rejection(number, raw, _("no commodity name")))
            continue
        result.rows.append(
            RawRow(
                commodity=str(values["commodity"]),
                market=values.get("market"),
                price_text=str(values["price"]),
                unit_text=values.get("unit"),
                date_text=values.get("date"),
                price_type_text=values.get("price_type"),
                currency_text=values.get("currency"),
                source_text=values.get("source"),
                row_number=number,
                raw=raw,
            )
        )
    return result


# ---------------------------------------------------------------------------
# Collecting: the form, the query, the pages
# ---------------------------------------------------------------------------


@dataclasses.dataclass
class _Form:
    """What ``collect`` needs from one response: the action, state and the field names."""

    action: str
    state: dict[str, str]
    soup: BeautifulSoup
    form: Tag

    @classmethod
    def read(cls, page: Page) -> _Form:
        soup = _soup(page.text)
        form = _form(soup)
        action = urljoin(page.url, str(form.get("action") or page.url))
        return cls(action=action, state=_state(form), soup=soup, form=form)

    def field(self, suffix: str, tag: str = "input") -> Tag:
        for element in self.form.find_all(tag):
            if fold(str(element.get("name") or "")).endswith(suffix):
                return element
        raise SourceError(
            f"the form has no {tag} named '…{suffix}'; the query form of the page changed"
        )

    def choose(self, suffix: str, wanted: str, setting: str) -> tuple[str, str]:
        """Name and option value of the select ending in *suffix* matching *wanted*."""
        select = self.field(suffix, "select")
        values = []
        for option in select.find_all("option"):
            value = _option_value(option)
            label = clean_text(option.get_text())
            values.append(label)
            if value and fold(wanted) in (fold(value), fold(label)):
                return str(select["name"]), value
        raise SourceError(f"{setting} {wanted!r} is not offered; choices: {', '.join(values)}")

    def has_option(self, suffix: str, wanted: str) -> bool:
        try:
            self.choose(suffix, wanted, "")
        except SourceError:
            return False
        return True

    def column_checkboxes(self) -> list[str]:
        """Names of the Loại giá / Đơn vị tính / Loại tiền / Nguồn checkboxes."""
        names: list[str] = []
        for box in self.form.find_all("input", attrs={"type": "checkbox"}):
            label = self.form.find("label", attrs={"for": box.get("id")}) if box.get("id") else None
            text = fold(label.get_text(" ")) if label is not None else ""
            if text in OPTIONAL_COLUMN_LABELS and box.get("name"):
                names.append(str(box["name"]))
        if not names:
            raise SourceError("the form has no Loại giá / Đơn vị tính / Loại tiền / Nguồn boxes")
        return names


def _query(form: _Form, settings: Mapping[str, Any], today: date) -> dict[str, str]:
    """The fields our query sets on top of the form's own state."""
    group = settings.get("product_group")
    if not group:
        raise SourceError('setting product_group is required (e.g. "Cà phê")')
    days = int(settings.get("days", 7))
    if days < 0:
        raise SourceError(f"days must not be negative, got {days}")
    period = str(settings.get("period") or "Ngày")
    period = PERIODS.get(fold(period), period)
    fields: dict[str, str] = {
        str(form.field(FROM_FIELD)["name"]): (today - timedelta(days=days)).strftime("%d/%m/%Y"),
        str(form.field(TO_FIELD)["name"]): today.strftime("%d/%m/%Y"),
    }
    name, value = form.choose(GROUP_FIELD, str(group), "product_group")
    fields[name] = value
    subgroup = settings.get("product_subgroup")
    if subgroup:
        name, value = form.choose(SUBGROUP_FIELD, str(subgroup), "product_subgroup")
        fields[name] = value
    name, value = form.choose(PERIOD_FIELD, period, "period")
    fields[name] = value
    if settings.get("show_columns", True):
        for name in form.column_checkboxes():
            fields[name] = "on"
    return fields


def _renumber(result: ParseResult, offset: int) -> ParseResult:
    """Number rows across pages, so a rejection's row number points at one row of the run."""
    if not offset:
        return result
    result.rows = [
        dataclasses.replace(row, row_number=(row.row_number or 0) + offset) for row in result.rows
    ]
    result.rejected = [
        dataclasses.replace(rej, row_number=(rej.row_number or 0) + offset)
        for rej in result.rejected
    ]
    return result


def collect(*, fetcher: Fetcher, url: str, settings: Mapping[str, Any], today: date) -> Collected:
    """GET the form, POST the query with its hidden state, then follow every result page."""
    max_pages = int(settings.get("max_pages", 50))
    pages: list[str] = []
    unknown = unknown_settings(settings, SETTINGS_HELP)

    page = fetcher.get(url)
    pages.append(page.url)
    form = _Form.read(page)
    if settings.get("product_subgroup") and not form.has_option(
        SUBGROUP_FIELD, str(settings["product_subgroup"])
    ):
        # The sub-group list is filled by the group select's auto-postback, as in a browser.
        group_name, group_value = form.choose(
            GROUP_FIELD, str(settings.get("product_group") or ""), "product_group"
        )
        data = {**form.state, group_name: group_value}
        data.update({"__EVENTTARGET": group_name, "__EVENTARGUMENT": ""})
        page = fetcher.post(form.action, data=data)
        pages.append(page.url)
        form = _Form.read(page)

    query = _query(form, settings, today)
    submit = form.field(SUBMIT_FIELD)
    data = {**form.state, **query, "__EVENTTARGET": "", "__EVENTARGUMENT": ""}
    data[str(submit["name"])] = str(submit.get("value") or "Xem")
    page = fetcher.post(form.action, data=data)
    pages.append(form.action)
    result = parse(page.text, settings=settings, today=today)
    if unknown:
        result.warnings.append(f"unknown settings ignored: {', '.join(unknown)}")

    visited = {current_page(page.text) or 1}
    known: dict[int, tuple[str, str]] = {}
    fetched = 1
    while True:
        for target, argument in pager_targets(page.text):
            number = argument.removeprefix("Page$")
            if number.isdigit():
                known.setdefault(int(number), (target, argument))
        todo = sorted(number for number in known if number not in visited)
        if not todo:
            break
        if fetched >= max_pages:
            result.warnings.append(
                f"stopped after max_pages={max_pages} result pages; page {todo[0]} and later "
                "were not fetched"
            )
            break
        target, argument = known[todo[0]]
        form = _Form.read(page)
        data = {**form.state, **_query(form, settings, today)}
        data.update({"__EVENTTARGET": target, "__EVENTARGUMENT": argument})
        page = fetcher.post(form.action, data=data)
        pages.append(f"{form.action}#{argument}")
        fetched += 1
        visited.add(todo[0])
        shown = current_page(page.text)
        if shown is not None:
            visited.add(shown)
        offset = max((item.row_number or 0 for item in [*result.rows, *result.rejected]), default=0)
        result.merge(_renumber(parse(page.text, settings=settings, today=today), offset))

    return Collected(
        pages=pages,
        result=result,
        defaults={},
        thousands=".",
        scale=None,
    )
