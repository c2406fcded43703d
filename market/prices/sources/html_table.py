"""Any web page with a price table, configured by an admin instead of by code.

Provincial Sở Công Thương pages, news sites and cooperatives all print prices as an HTML table,
each a little differently (rowspans, "(1.000 đ/kg)" headers, dates in a heading). Settings say
which table and which columns; ``parse`` turns the table into ``RawRow``s, cell text untouched.

Pages are read with lxml directly (a tenth of the cost of building a BeautifulSoup tree); the
few CSS selectors settings use (tag, ``.class``, ``#id``, descendant and ``>``) are matched
exactly as soupsieve matches them. A selector beyond that, a ``class``-like attribute setting,
``<template>``/``<rt>``/``<rp>`` in the page or markup lxml refuses falls back to BeautifulSoup,
so every page reads as it always did.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from itertools import islice
from typing import Any, NamedTuple

from bs4 import BeautifulSoup, Tag
from flask_babel import gettext as _
from lxml import etree

# A module import: normalise imports sources.base, so names are looked up at call time.
from market.prices import normalise
from market.prices.fetch import Fetcher
from market.prices.sources.base import (
    FIELDS,
    Collected,
    ParseResult,
    RawRow,
    Rejection,
    SourceError,
    clean_text,
    is_blank,
    parse_scale,
    unknown_settings,
)
from market.text import fold

__all__ = ["SETTINGS_HELP", "collect", "detect_unit", "parse"]

SETTINGS_HELP: dict[str, str] = {
    "table": "CSS selector of the price table (default: the first table with a header row).",
    "rows": "CSS selector of the data rows, instead of 'table' (for tables built from divs).",
    "header_row": "Index (0 = first row) of the header row, or a list for a two-row header; "
    "default: the leading rows made of <th> cells.",
    "columns": "Field → header text (accent/case-insensitive substring) or column index (0 = "
    "first). Fields: commodity, market, price, unit, date, change, price_type, currency, source."
    " Unmapped fields are found from usual headers (Mặt hàng, Thị trường, Giá, ĐVT, Ngày…).",
    "fixed": 'Field → value the page states once (e.g. {"market": "Chợ Đông Hà"}); used '
    "when the row has no such column or the cell is empty.",
    "date_from_heading": '{"selector": "h1, h2, .title", "regex": "ngày (\\\\d{1,2}/'
    '\\\\d{1,2}/\\\\d{4})"}: take the date from a heading (first group, else whole match).',
    "thousands": 'Thousands separator of the numbers: "." (default, Vietnamese) or ",".',
    "scale": 'Multiplier of the printed prices: a number (1000), or "auto" (default) to read '
    'a header such as "(1.000 đ/kg)" or "nghìn đồng/kg" in the price header or caption.',
    "attributes": "Field → attribute to read instead of the cell text, e.g. "
    '{"price": "data-price"}.',
    "skip_rows_matching": "Regular expression; rows whose text matches are ignored "
    '(e.g. "Tổng|Ghi chú").',
    "section_field": "Field (commodity or market) filled from full-width section rows such as "
    'a row "Cà phê" above its markets.',
    "pages": "Extra URLs fetched and parsed with the same settings.",
}

# Usual headers of Vietnamese price tables, folded; assigned most specific first so that
# "Loại giá" and "Thay đổi giá" are not taken for the price column.
DEFAULT_HEADERS: list[tuple[str, str]] = [
    ("price_type", r"^loai gia|^hinh thuc"),
    ("currency", r"^loai tien|^tien te|^dong tien"),
    ("unit", r"^don vi|^dvt\b|^d\.v\.t"),
    ("change", r"thay doi|tang ?/ ?giam|tang giam|\+ ?/ ?-|bien dong|chenh lech"),
    ("source", r"^nguon"),
    ("date", r"^ngay|^thoi gian|^cap nhat"),
    ("market", r"^thi truong|^cho\b|^dia phuong|^khu vuc|^tinh\b|^dia diem|^noi |^vung|^dia ban"),
    ("commodity", r"mat hang|ten hang|san pham|^loai\b|^ten\b|^hang hoa|^nong san|^chung loai"),
    ("price", r"gia"),
]
_DEFAULT_DATE_SELECTOR = "h1, h2, h3, .title, caption"
_MACHINE_NUMBER = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")
_UNIT_PHRASE = re.compile(
    r"(?<!\w)(?:[0-9][0-9.,]*\s*)?(?:(?:nghìn|ngàn|triệu|nghin|ngan|trieu|tr|k)\.?\s*)?"
    r"(?:đồng|đ|vnđ|vnd|usd|us\$|\$|dong)(?![^\W\d_])\s*(?:/\s*[^\s,;)]+)?",
    re.IGNORECASE,
)
_UNIT_LABEL = re.compile(r"(?:đơn vị(?: tính)?|đvt)\s*[:：]?\s*([^;|\n)]+)", re.IGNORECASE)


class Cell(NamedTuple):
    """One position of the expanded grid; ``carried`` when it comes from a rowspan above."""

    tag: Any  # a bs4 Tag or an lxml element, as the page's _Dom reads it
    text: str
    carried: bool = False


# ---------------------------------------------------------------------------
# Reading the page: lxml directly, or BeautifulSoup for what lxml cannot match exactly
# ---------------------------------------------------------------------------

_IDENT = r"-?[^\W\d][\w-]*"
_COMPOUND = re.compile(rf"(?P<tag>[A-Za-z][A-Za-z0-9_-]*|\*)?(?P<rest>(?:[.#]{_IDENT})*)")
_PART = re.compile(rf"([.#])({_IDENT})")
_COMBINATOR = re.compile(r"\s*>\s*|\s+")
_CLASS_TOKEN = re.compile(r"\S+")  # how bs4 splits a class attribute, so soupsieve's matching
# Attributes bs4 turns into lists (its HTML builder's cdata_list_attributes); read via bs4.
_LIST_ATTRIBUTES = frozenset(
    (
        *("class", "accesskey", "dropzone", "rel", "rev", "headers", "accept-charset"),
        *("archive", "sizes", "sandbox", "for"),
    )
)
# Strings under these are not NavigableStrings in bs4, so get_text leaves them out.
_BS4_SPECIAL_STRINGS = ("template", "rt", "rp")
_RAW_TEXT = frozenset(("script", "style"))
_START_TAG = re.compile(r"<[A-Za-z]")


@dataclass(frozen=True)
class _Compound:
    tag: str | None
    classes: tuple[str, ...]
    ids: tuple[str, ...]

    def matches(self, element: Any) -> bool:
        if self.tag is not None and element.tag != self.tag:
            return False
        if self.ids and any(element.get("id") != ident for ident in self.ids):
            return False
        if self.classes:
            tokens = _CLASS_TOKEN.findall(element.get("class") or "")
            return all(name in tokens for name in self.classes)
        return True


@dataclass(frozen=True)
class _Selector:
    """A selector group in the subset lxml matches here; ``select`` returns document order."""

    chains: tuple[tuple[tuple[_Compound, ...], tuple[str, ...]], ...]
    prefilter: Any  # etree.XPath of a superset of the matches

    def select(self, root: Any) -> list[Any]:
        return [el for el in self.prefilter(root) if any(_chain(el, *c) for c in self.chains)]


def _chain(element: Any, compounds: tuple[_Compound, ...], combinators: tuple[str, ...]) -> bool:
    """Whether *element* matches the compound selectors right to left (backtracking on " ")."""
    last = len(compounds) - 1
    if not compounds[last].matches(element):
        return False
    if last == 0:
        return True
    rest, joins = compounds[:last], combinators[: last - 1]
    if combinators[last - 1] == ">":
        parent = element.getparent()
        return parent is not None and _chain(parent, rest, joins)
    return any(_chain(ancestor, rest, joins) for ancestor in element.iterancestors())


@lru_cache(maxsize=256)
def _compile_selector(selector: str) -> _Selector | None:
    """Compile a selector of tags, ``.class``, ``#id``, " " and ">" (and ","), else None."""
    chains = []
    prefilters = []
    for group in selector.split(","):
        group = group.strip()
        compounds: list[_Compound] = []
        combinators: list[str] = []
        position = 0
        while True:
            match = _COMPOUND.match(group, position)
            if match is None or match.end() == position:
                return None
            tag = match.group("tag")
            parts = _PART.findall(match.group("rest"))
            compounds.append(
                _Compound(
                    tag=None if tag in (None, "*") else tag.lower(),
                    classes=tuple(name for kind, name in parts if kind == "."),
                    ids=tuple(name for kind, name in parts if kind == "#"),
                )
            )
            position = match.end()
            if position == len(group):
                break
            join = _COMBINATOR.match(group, position)
            if join is None or join.end() == len(group):
                return None
            combinators.append(">" if ">" in join.group() else " ")
            position = join.end()
        last = compounds[-1]
        predicates = "".join(f"[contains(@class, '{name}')]" for name in last.classes)
        predicates += "".join(f"[@id='{ident}']" for ident in last.ids)
        prefilters.append(f"//{last.tag or '*'}{predicates}")
        chains.append((tuple(compounds), tuple(combinators)))
    return _Selector(tuple(chains), etree.XPath(" | ".join(prefilters)))


class _SoupDom:
    """The page as BeautifulSoup (lxml parser) reads it, CSS selectors by soupsieve."""

    def __init__(self, html: str) -> None:
        self.root = BeautifulSoup(html, "lxml")

    def select(self, selector: str) -> list[Any]:
        return self.root.select(selector)

    def select_one(self, selector: str) -> Any:
        return self.root.select_one(selector)

    def tables(self) -> list[Any]:
        return self.root.find_all("table")

    @staticmethod
    def name(tag: Any) -> str:
        return tag.name

    @staticmethod
    def text(tag: Any) -> str:
        return tag.get_text(" ")

    @staticmethod
    def cells(row: Any) -> list[Any]:
        cells = row.find_all(["td", "th"], recursive=False)
        if cells or row.name == "tr":
            return cells
        return [child for child in row.children if isinstance(child, Tag)]

    @staticmethod
    def has_th(row: Any) -> bool:
        return row.find("th", recursive=False) is not None

    @staticmethod
    def rows(table: Any) -> list[Any]:
        return [tr for tr in table.find_all("tr") if tr.find_parent("table") is table]

    @staticmethod
    def caption(table: Any) -> Any:
        return table.find("caption")

    @staticmethod
    def before(table: Any, limit: int) -> list[Any]:
        return table.find_previous_siblings(limit=limit)

    @staticmethod
    def get(tag: Any, attribute: str) -> str | None:
        value = tag.get(attribute)
        return None if value is None else str(value)

    @staticmethod
    def holder(tag: Any, attribute: str) -> Any:
        return tag if tag.has_attr(attribute) else tag.find(attrs={attribute: True})


class _LxmlDom:
    """The same page as an lxml tree (the same libxml2 parse bs4 uses), read the same way."""

    def __init__(self, root: Any, raw_holders: set[Any]) -> None:
        self.root = root
        self._raw_holders = raw_holders  # elements with a <script> or <style> inside

    @classmethod
    def read(cls, html: str, selectors: list[Any]) -> _LxmlDom | None:
        """Parse *html* as bs4 feeds lxml, or None when only BeautifulSoup reads it the same."""
        if not all(isinstance(s, str) and _compile_selector(s) for s in selectors):
            return None
        if _late_doctype(html):
            return None
        parser = etree.HTMLParser()
        try:
            parser.feed(html.removeprefix("\ufeff"))
            root = parser.close()
        except (etree.LxmlError, ValueError, TypeError):
            return None
        if root is None or next(root.iter(*_BS4_SPECIAL_STRINGS), None) is not None:
            return None
        raw_holders: set[Any] = set()
        for raw in root.iter(*_RAW_TEXT):
            raw_holders.update(raw.iterancestors())
        return cls(root, raw_holders)

    def select(self, selector: str) -> list[Any]:
        compiled = _compile_selector(selector)
        assert compiled is not None  # checked in read()
        return compiled.select(self.root)

    def select_one(self, selector: str) -> Any:
        found = self.select(selector)
        return found[0] if found else None

    def tables(self) -> list[Any]:
        return list(self.root.iter("table"))

    @staticmethod
    def name(element: Any) -> str:
        return element.tag

    def text(self, element: Any) -> str:
        """``get_text(" ")``: every string but comments and script/style contents."""
        if element.tag in _RAW_TEXT:
            return element.text or ""
        if element in self._raw_holders:
            return " ".join(_strings(element))
        return " ".join(element.itertext())

    @staticmethod
    def cells(row: Any) -> list[Any]:
        cells = [child for child in row if child.tag == "td" or child.tag == "th"]
        if cells or row.tag == "tr":
            return cells
        return [child for child in row if isinstance(child.tag, str)]

    @staticmethod
    def has_th(row: Any) -> bool:
        return any(child.tag == "th" for child in row)

    @staticmethod
    def rows(table: Any) -> list[Any]:
        return [
            tr
            for tr in table.iterdescendants("tr")
            if next(tr.iterancestors("table"), None) is table
        ]

    @staticmethod
    def caption(table: Any) -> Any:
        return next(table.iterdescendants("caption"), None)

    @staticmethod
    def before(table: Any, limit: int) -> list[Any]:
        return list(islice(table.itersiblings(etree.Element, preceding=True), limit))

    @staticmethod
    def get(element: Any, attribute: str) -> str | None:
        return element.get(attribute)

    @staticmethod
    def holder(element: Any, attribute: str) -> Any:
        if element.get(attribute) is not None:
            return element
        found = (
            el for el in element.iterdescendants(etree.Element) if el.get(attribute) is not None
        )
        return next(found, None)


def _late_doctype(html: str) -> bool:
    """A <!DOCTYPE> after a tag, which splits a string in bs4 but leaves no lxml node."""
    seen = False
    position = html.find("<!")
    while position != -1:
        if html[position + 2 : position + 9].lower() == "doctype":
            if seen or _START_TAG.search(html, 0, position):
                return True
            seen = True
        position = html.find("<!", position + 2)
    return False


def _strings(element: Any) -> Iterator[str]:
    """The strings under *element* in document order, leaving out script/style contents."""
    if element.text and element.tag not in _RAW_TEXT:
        yield element.text
    for child in element:
        if isinstance(child.tag, str):
            yield from _strings(child)
        if child.tail:
            yield child.tail


_Dom = _SoupDom | _LxmlDom


def _read(html: str, settings: Mapping[str, Any]) -> _Dom:
    """The page as lxml reads it when that is exact for these settings, else as bs4 does."""
    selectors: list[Any] = []
    if settings.get("rows"):
        selectors.append(settings["rows"])
    elif settings.get("table"):
        selectors.append(settings["table"])
    heading = settings.get("date_from_heading")
    if isinstance(heading, Mapping):
        selectors.append(heading.get("selector") or _DEFAULT_DATE_SELECTOR)
    elif heading:
        selectors.append(_DEFAULT_DATE_SELECTOR)
    attributes = settings.get("attributes") or {}
    if isinstance(attributes, Mapping) and not any(
        isinstance(name, str) and name.lower() in _LIST_ATTRIBUTES for name in attributes.values()
    ):
        dom = _LxmlDom.read(html, selectors)
        if dom is not None:
            return dom
    return _SoupDom(html)


# ---------------------------------------------------------------------------
# Grid
# ---------------------------------------------------------------------------


def _span(value: str | None) -> int:
    if value is None:
        return 1
    try:
        return max(1, min(int(value.strip() or 1), 1000))
    except ValueError:
        return 1


def _grid(dom: _Dom, rows: list[Any]) -> list[list[Cell]]:
    """Expand rowspans and colspans so that every row has its cells at their column index."""
    grid: list[list[Cell]] = []
    pending: dict[int, tuple[int, Cell]] = {}  # column → (rows still to fill, cell)
    for row in rows:
        line: dict[int, Cell] = {}
        for column, (left, cell) in list(pending.items()):
            line[column] = Cell(cell.tag, cell.text, True)
            if left <= 1:
                del pending[column]
            else:
                pending[column] = (left - 1, cell)
        column = 0
        for tag in dom.cells(row):
            cell = Cell(tag, clean_text(dom.text(tag)))
            rowspan = _span(dom.get(tag, "rowspan"))
            for _copy in range(_span(dom.get(tag, "colspan"))):
                while column in line:
                    column += 1
                line[column] = cell
                if rowspan > 1:
                    pending[column] = (rowspan - 1, cell)
                column += 1
        width = max(line) + 1 if line else 0
        grid.append([line.get(i) or Cell(row, "") for i in range(width)])
    return grid


def _find_table(dom: _Dom, selector: str | None) -> Any:
    if selector:
        table = dom.select_one(selector)
        if table is None:
            raise SourceError(f"no element matches the table selector {selector!r}")
        return table
    tables = dom.tables()
    for table in tables:
        rows = dom.rows(table)  # the table's rows, not those of tables nested inside it
        if rows and any(dom.has_th(row) for row in rows[:3]):
            return table
    for table in tables:
        rows = dom.rows(table)
        if len(rows) >= 2 and len(dom.cells(rows[0])) >= 2:
            return table
    raise SourceError("expected a price table with a header row; the page has none")


def _header_indexes(
    dom: _Dom, grid: list[list[Cell]], setting: Any, need_header: bool
) -> list[int]:
    if setting is not None:
        indexes = [setting] if isinstance(setting, int) else list(setting)
        for index in indexes:
            if not isinstance(index, int) or not 0 <= index < len(grid):
                raise SourceError(f"header_row {index!r} is outside the table's {len(grid)} rows")
        return indexes
    leading: list[int] = []
    for index, line in enumerate(grid):
        if line and all(dom.name(cell.tag) == "th" for cell in line):
            leading.append(index)
        elif leading or index >= 2:
            break
    if leading:
        return leading
    return [0] if need_header and grid else []


def _headers(grid: list[list[Cell]], indexes: list[int]) -> list[str]:
    width = max((len(line) for line in grid), default=0)
    headers: list[str] = []
    for column in range(width):
        parts: list[str] = []
        for index in indexes:
            line = grid[index]
            if column < len(line) and line[column].text and line[column].text not in parts:
                parts.append(line[column].text)
        headers.append(" ".join(parts))
    return headers


def _map_columns(
    headers: list[str], columns: Mapping[str, Any], *, auto: bool = True
) -> dict[str, int]:
    """Resolve ``columns`` settings, then find the remaining fields under usual headers."""
    folded = [fold(header) for header in headers]
    mapping: dict[str, int] = {}
    for field, spec in columns.items():
        if field not in FIELDS:
            raise SourceError(f"unknown field {field!r} in columns; known: {', '.join(FIELDS)}")
        if isinstance(spec, int) and not isinstance(spec, bool):
            mapping[field] = spec
    # Longer patterns first, so "loại giá" claims its column before "giá".
    textual = sorted(
        ((field, fold(str(spec))) for field, spec in columns.items() if field not in mapping),
        key=lambda item: -len(item[1]),
    )
    for field, pattern in textual:
        taken = set(mapping.values())
        candidates = [i for i, text in enumerate(folded) if pattern in text and i not in taken]
        exact = [i for i in candidates if folded[i] == pattern]
        if not candidates:
            raise SourceError(
                f"no column header contains {pattern!r} for {field}; headers are "
                + " | ".join(headers)
            )
        mapping[field] = (exact or candidates)[0]
    if auto:
        for field, pattern in DEFAULT_HEADERS:
            if field in mapping:
                continue
            taken = set(mapping.values())
            for i, text in enumerate(folded):
                if i not in taken and re.search(pattern, text):
                    mapping[field] = i
                    break
    return mapping


# ---------------------------------------------------------------------------
# Page-level facts: unit/scale and date
# ---------------------------------------------------------------------------


def detect_unit(*texts: str | None) -> normalise.UnitSpec | None:
    """Find a price unit such as "(1.000 đ/kg)" or "ĐVT: nghìn đồng/kg" in header texts."""
    for text in texts:
        if not text:
            continue
        candidates = re.findall(r"\(([^()]*)\)", text)
        candidates += _UNIT_LABEL.findall(text)
        candidates += [m.group(0) for m in _UNIT_PHRASE.finditer(text)]
        for candidate in candidates:
            candidate = candidate.strip()
            if not candidate or not re.search(r"[^\W\d_]|\$", candidate):
                continue
            try:
                spec = normalise.parse_price_unit(candidate)
            except normalise.RowError:
                continue
            if spec.explicit_currency or spec.scale != 1:
                return spec
    return None


def _spec_text(spec: normalise.UnitSpec) -> str:
    """A detected unit as text ``parse_price_unit`` reads back, scale included."""
    return f"{spec.scale} {spec.canonical()}" if spec.scale != 1 else spec.canonical()


def _date_from_heading(dom: _Dom, setting: Any) -> str:
    if isinstance(setting, str):
        selector, pattern = _DEFAULT_DATE_SELECTOR, setting
    elif isinstance(setting, Mapping):
        selector = setting.get("selector") or _DEFAULT_DATE_SELECTOR
        pattern = setting.get("regex") or r"\d{1,2}/\d{1,2}/\d{4}"
    else:
        raise SourceError("date_from_heading must be a regex or {selector, regex}")
    try:
        regex = re.compile(pattern, re.IGNORECASE)
    except re.error as exc:
        raise SourceError(f"date_from_heading regex {pattern!r} is invalid: {exc}") from exc
    for element in dom.select(selector):
        text = clean_text(dom.text(element))
        match = regex.search(text) or regex.search(fold(text))
        if match:
            return match.group(1) if regex.groups else match.group(0)
    raise SourceError(f"no heading matching {selector!r} contains a date like {pattern!r}")


# ---------------------------------------------------------------------------
# Parsing
# ---------------------------------------------------------------------------


def _cell_value(dom: _Dom, cell: Cell, attribute: str | None, thousands: str | None) -> str:
    if attribute is None:
        return cell.text
    holder = dom.holder(cell.tag, attribute)
    if holder is None:
        return ""
    value = clean_text(dom.get(holder, attribute) or "")
    # Attributes hold machine numbers ("86933.5"); give them the page's decimal mark.
    if thousands == "." and _MACHINE_NUMBER.fullmatch(value):
        value = value.replace(".", ",")
    return value


def _is_section(line: list[Cell], width: int) -> bool:
    """A heading row inside the table: one cell of its own (e.g. colspan="5"), no rowspans."""
    own = {id(cell.tag) for cell in line}
    return (
        len(own) == 1
        and max(len(line), width) > 1
        and not any(cell.carried for cell in line)
        and bool(line[0].text)
    )


def _page_facts(
    dom: _Dom,
    table: Any,
    headers: list[str],
    mapping: dict[str, int],
    settings: Mapping[str, Any],
    result: ParseResult,
) -> tuple[str | None, str | None]:
    """What the page states once: date, unit and scale, price type, the change's own unit.

    Unit, currency, price type and scale go into ``result``; returns the heading's date and
    the change column's unit (None when the change is in the price's unit).
    """
    fixed: Mapping[str, str] = settings.get("fixed") or {}
    date_text = None
    if settings.get("date_from_heading"):
        date_text = _date_from_heading(dom, settings["date_from_heading"])

    price_header = headers[mapping["price"]] if mapping["price"] < len(headers) else ""
    caption = dom.caption(table) if table is not None else None
    caption_text = clean_text(dom.text(caption)) if caption is not None else ""
    before = dom.before(table, 2) if table is not None else []
    unit_spec = detect_unit(price_header, caption_text, *(clean_text(dom.text(t)) for t in before))
    if unit_spec is not None:
        if unit_spec.unit_code and "unit" not in mapping and "unit" not in fixed:
            result.defaults["unit"] = unit_spec.canonical()
        if unit_spec.explicit_currency and "currency" not in mapping and "currency" not in fixed:
            result.defaults["currency"] = unit_spec.currency
    if "price_type" not in mapping and "price_type" not in fixed:
        # "Giá thu mua (đ/kg)" or a caption "Giá bán lẻ …" says the price type once.
        for text in (price_header, caption_text):
            if normalise.classify_price_type(text):
                result.defaults["price_type"] = text
                break

    scale_setting = settings.get("scale", "auto")
    if isinstance(scale_setting, str) and fold(scale_setting) == "auto":
        if unit_spec is not None and unit_spec.scale != 1:
            result.scale = unit_spec.scale
    elif scale_setting not in (None, "", "none"):
        result.scale = parse_scale(scale_setting)

    change_unit = None
    if "change" in mapping and mapping["change"] < len(headers):
        change_spec = detect_unit(headers[mapping["change"]])
        if change_spec is not None:
            change_unit = _spec_text(change_spec)
    return date_text, change_unit


def parse(html: str, *, settings: Mapping[str, Any], today: date) -> ParseResult:
    """Read the configured price table of *html* into rows and rejections (pure, no I/O)."""
    del today  # dates stay text here; normalise reads them
    result = ParseResult()
    unknown = unknown_settings(settings, SETTINGS_HELP)
    if unknown:
        result.warnings.append(f"unknown settings ignored: {', '.join(unknown)}")
    dom = _read(html, settings)
    columns: Mapping[str, Any] = settings.get("columns") or {}
    fixed: Mapping[str, str] = settings.get("fixed") or {}
    attributes: Mapping[str, str] = settings.get("attributes") or {}
    thousands = settings.get("thousands", ".")
    section_field = settings.get("section_field")
    if section_field not in (None, "commodity", "market"):
        raise SourceError("section_field must be 'commodity' or 'market'")
    skip = settings.get("skip_rows_matching")
    try:
        skip_regex = re.compile(skip, re.IGNORECASE) if skip else None
    except re.error as exc:
        raise SourceError(f"skip_rows_matching {skip!r} is invalid: {exc}") from exc

    table: Any = None
    if settings.get("rows"):
        row_tags = dom.select(settings["rows"])
        if not row_tags:
            raise SourceError(f"no element matches the rows selector {settings['rows']!r}")
    else:
        table = _find_table(dom, settings.get("table"))
        row_tags = dom.rows(table)
    grid = _grid(dom, row_tags)
    needs_header = any(not isinstance(spec, int) for spec in columns.values()) or not columns
    header_indexes = _header_indexes(dom, grid, settings.get("header_row"), needs_header)
    headers = _headers(grid, header_indexes)
    mapping = _map_columns(headers, columns, auto=bool(header_indexes))
    if "price" not in mapping:
        raise SourceError(
            "expected a price column (header 'Giá'); headers are " + " | ".join(headers)
        )
    if "commodity" not in mapping and "commodity" not in fixed and section_field != "commodity":
        raise SourceError(
            "expected a commodity column (header 'Mặt hàng'); headers are " + " | ".join(headers)
        )

    date_text, change_unit = _page_facts(dom, table, headers, mapping, settings, result)
    header_texts = [fold(header) for header in headers]
    section_value: str | None = None
    first_data = max(header_indexes) + 1 if header_indexes else 0
    for index in range(first_data, len(grid)):
        line = grid[index]
        row_number = index + 1
        raw = " | ".join(cell.text for cell in line)
        if not line or all(is_blank(cell.text) for cell in line if not cell.carried):
            continue
        if skip_regex and (skip_regex.search(raw) or skip_regex.search(fold(raw))):
            continue
        if len(line) == len(header_texts) and all(
            fold(cell.text) == header for cell, header in zip(line, header_texts, strict=True)
        ):
            continue  # a header repeated down a long table
        if _is_section(line, len(headers)):
            section_value = line[0].text
            continue

        values: dict[str, str | None] = {}
        if mapping["price"] >= len(line):
            result.rejected.append(
                Rejection(
                    row_number,
                    raw,
                    _(
                        "the row has %(cells)d cells; the price is column %(column)d",
                        cells=len(line),
                        column=mapping["price"] + 1,
                    ),
                )
            )
            continue
        for field, column in mapping.items():
            value = (
                _cell_value(dom, line[column], attributes.get(field), thousands)
                if column < len(line)
                else ""
            )
            values[field] = value or None
        for field, value in fixed.items():
            if not values.get(field):
                values[field] = str(value)
        if section_field and not values.get(section_field):
            values[section_field] = section_value
        if date_text and not values.get("date"):
            values["date"] = date_text

        price = values.get("price")
        if price is None or is_blank(price):
            result.rejected.append(Rejection(row_number, raw, _("no price printed")))
            continue
        commodity = values.get("commodity")
        if not commodity:
            result.rejected.append(Rejection(row_number, raw, _("no commodity name")))
            continue
        result.rows.append(
            RawRow(
                commodity=commodity,
                market=values.get("market"),
                price_text=price,
                unit_text=values.get("unit"),
                date_text=values.get("date"),
                change_text=values.get("change"),
                price_type_text=values.get("price_type"),
                currency_text=values.get("currency"),
                source_text=values.get("source"),
                row_number=row_number,
                raw=raw,
                change_unit_text=change_unit if values.get("change") else None,
            )
        )
    return result


def collect(*, fetcher: Fetcher, url: str, settings: Mapping[str, Any], today: date) -> Collected:
    """GET *url* (and any ``pages``) and parse each with the same settings."""
    urls = [url, *(settings.get("pages") or [])]
    merged: ParseResult | None = None
    fetched: list[str] = []
    for page_url in urls:
        page = fetcher.get(page_url)
        fetched.append(page.url)
        result = parse(page.text, settings=settings, today=today)
        if merged is None:
            merged = result
        else:
            merged.merge(result)
    assert merged is not None
    return Collected(
        pages=fetched,
        result=merged,
        defaults=dict(merged.defaults),
        thousands=settings.get("thousands", "."),
        scale=merged.scale,
    )
