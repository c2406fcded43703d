"""CSV and XLSX price files, "long" (one row per price) or "wide" (a column per commodity).

Statistics offices and the World Bank "Pink Sheet" publish spreadsheets rather than pages. The
wide layout reads a sheet of monthly prices with commodity names in a header row, units in the
row below and dates such as "2024M01" in the first column; each selected column becomes a
commodity. Cell values become text as printed, so ``normalise`` reads every source the same way.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit
from zipfile import BadZipFile

from flask_babel import gettext as _

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
    unknown_settings,
)
from market.text import fold

__all__ = ["SETTINGS_HELP", "cell_text", "collect", "parse", "read_table"]

SETTINGS_HELP: dict[str, str] = {
    "format": '"csv" or "xlsx"; default: from the file\'s signature (a zip is xlsx).',
    "layout": '"long" (default: one row per price, columns mapped) or "wide" (a column per '
    "commodity, a row per date, as in the World Bank Pink Sheet).",
    "sheet": "XLSX sheet name (or 0-based index); default the first sheet.",
    "header_row": "Row number of the header, counted from 1 as a spreadsheet shows it (default 1).",
    "unit_row": 'Wide layout: row number (from 1) holding each column\'s unit, e.g. "($/kg)".',
    "date_column": 'Wide layout: the date column, 0-based index, letter ("A") or header text '
    "(default 0).",
    "date_format": 'strptime format of the dates, e.g. "%YM%m" for "2024M01" (the 1st of '
    "that month); default: read Vietnamese dates as printed.",
    "columns": "Long layout: field → header text (accent/case-insensitive substring) or 0-based "
    "index, as for html_table. Wide layout: header text of a column → commodity name to record "
    '(e.g. {"Coffee, Robusta": "ca_phe_robusta_nhan"}).',
    "fixed": 'Field → value every row gets when it has none, e.g. {"market": "Thế giới", '
    '"price_type": "xuất khẩu"}.',
    "thousands": 'Thousands separator of numbers written as text: "." (default) or ",".',
    "delimiter": "CSV delimiter; default: sniffed among , ; and tab.",
    "encoding": "CSV encoding; default UTF-8 (with or without BOM), else cp1258, else cp1252.",
    "skip_rows_matching": "Regular expression; rows whose text matches are ignored.",
}

_XLSX_SIGNATURE = b"PK\x03\x04"
_OLE_SIGNATURE = b"\xd0\xcf\x11\xe0"
_DELIMITERS = (",", ";", "\t")

Cell = Any  # str, int, float, Decimal, datetime, date or None, as the reader returns it


# ---------------------------------------------------------------------------
# Reading files into rows of cells
# ---------------------------------------------------------------------------


def _decode_csv(content: bytes, encoding: str | None) -> str:
    if encoding:
        try:
            return content.decode(encoding)
        except (UnicodeDecodeError, LookupError) as exc:
            raise SourceError(f"the file is not valid {encoding}: {exc}") from exc
    for candidate in ("utf-8-sig", "cp1258", "cp1252"):
        try:
            # cp1258 spells tones as combining marks; NFC makes "Cà phê" compare equal.
            return unicodedata.normalize("NFC", content.decode(candidate))
        except UnicodeDecodeError:
            continue
    return content.decode("utf-8", errors="replace")


def _sniff_delimiter(text: str) -> str:
    """The delimiter giving the most consistent field count (>1) over the first lines."""
    lines = [line for line in text.splitlines()[:20] if line.strip()]
    best, best_score = ",", (0, 0)
    for delimiter in _DELIMITERS:
        counts = [len(row) for row in csv.reader(lines, delimiter=delimiter)]
        if not counts:
            continue
        common = max(set(counts), key=counts.count)
        score = (counts.count(common) if common > 1 else 0, common)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _read_csv(content: bytes, settings: Mapping[str, Any]) -> list[list[Cell]]:
    text = _decode_csv(content, settings.get("encoding"))
    delimiter = settings.get("delimiter") or _sniff_delimiter(text)
    return [list(row) for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)]


def _read_xlsx(content: bytes, settings: Mapping[str, Any]) -> list[list[Cell]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (BadZipFile, KeyError, OSError, ValueError) as exc:
        raise SourceError(f"the file is not a readable .xlsx workbook: {exc}") from exc
    try:
        sheet_setting = settings.get("sheet")
        names = workbook.sheetnames
        if sheet_setting is None:
            sheet = workbook[names[0]]
        elif isinstance(sheet_setting, int):
            if not 0 <= sheet_setting < len(names):
                raise SourceError(f"sheet {sheet_setting} does not exist; sheets: {names}")
            sheet = workbook[names[sheet_setting]]
        elif sheet_setting in names:
            sheet = workbook[sheet_setting]
        else:
            raise SourceError(f"no sheet named {sheet_setting!r}; sheets: {', '.join(names)}")
        return [list(row) for row in sheet.iter_rows(values_only=True)]
    finally:
        workbook.close()


def read_table(content: bytes, settings: Mapping[str, Any]) -> list[list[Cell]]:
    """The file's rows as lists of cell values; CSV cells are strings, XLSX cells typed."""
    kind = fold(str(settings.get("format") or ""))
    if not kind:
        if content.startswith(_OLE_SIGNATURE):
            raise SourceError("old binary .xls files are not supported; save it as .xlsx")
        kind = "xlsx" if content.startswith(_XLSX_SIGNATURE) else "csv"
    if kind == "xlsx":
        return _read_xlsx(content, settings)
    if kind == "csv":
        return _read_csv(content, settings)
    raise SourceError(f"format must be 'csv' or 'xlsx', got {settings.get('format')!r}")


def cell_text(value: Cell, *, thousands: str | None = ".") -> str:
    """A cell as printed text: numbers without grouping, with the decimal mark *thousands* implies.

    Typed spreadsheet numbers have no thousands separator; writing 1.234 as "1,234" under
    Vietnamese settings keeps ``parse_number`` from reading it as one thousand two hundred.
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, int | float | Decimal):
        number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
        text = format(number, "f")
        if "." in text:
            text = text.rstrip("0").rstrip(".")
        return text.replace(".", ",") if thousands == "." else text
    return clean_text(str(value))


# ---------------------------------------------------------------------------
# Layouts
# ---------------------------------------------------------------------------


def _row_index(settings: Mapping[str, Any], key: str, default: int | None) -> int | None:
    """A 1-based spreadsheet row setting as a 0-based list index."""
    value = settings.get(key, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise SourceError(f"{key} is a row number counted from 1, got {value!r}")
    return value - 1


def _column_index(spec: Any, headers: Sequence[str], what: str) -> int:
    if isinstance(spec, int) and not isinstance(spec, bool):
        return spec
    text = str(spec)
    if re.fullmatch(r"[A-Z]{1,2}", text):
        index = 0
        for letter in text:
            index = index * 26 + ord(letter) - ord("A") + 1
        return index - 1
    folded = [fold(header) for header in headers]
    wanted = fold(text)
    exact = [i for i, header in enumerate(folded) if header == wanted]
    partial = [i for i, header in enumerate(folded) if wanted in header]
    if exact:
        return exact[0]
    if len(partial) == 1:
        return partial[0]
    if partial:
        raise SourceError(f"{what} {text!r} matches several headers; spell it out in full")
    raise SourceError(f"no header matches {what} {text!r}; headers are " + " | ".join(headers))


def _date_text(value: Cell, date_format: str | None) -> str:
    if date_format and not isinstance(value, date):
        try:
            return datetime.strptime(clean_text(str(value)), date_format).date().isoformat()
        except ValueError as exc:
            raise ValueError(
                _(
                    "the date “%(text)s” does not match the format %(format)s",
                    text=clean_text(str(value)),
                    format=date_format,
                )
            ) from exc
    return cell_text(value)


def _skip(settings: Mapping[str, Any]) -> re.Pattern[str] | None:
    pattern = settings.get("skip_rows_matching")
    if not pattern:
        return None
    try:
        return re.compile(pattern, re.IGNORECASE)
    except re.error as exc:
        raise SourceError(f"skip_rows_matching {pattern!r} is invalid: {exc}") from exc


def _parse_wide(table: list[list[Cell]], settings: Mapping[str, Any]) -> ParseResult:
    result = ParseResult()
    thousands = settings.get("thousands", ".")
    header_index = _row_index(settings, "header_row", 1)
    unit_index = _row_index(settings, "unit_row", None)
    assert header_index is not None
    if header_index >= len(table):
        raise SourceError(f"the file has {len(table)} rows; header_row is {header_index + 1}")
    headers = [cell_text(cell) for cell in table[header_index]]
    units = [cell_text(c) for c in table[unit_index]] if unit_index is not None else []
    columns: Mapping[str, str] = settings.get("columns") or {}
    if not columns:
        raise SourceError("the wide layout needs columns: {header text: commodity name}")
    selected = [
        (_column_index(header, headers, "column"), str(name), str(header))
        for header, name in columns.items()
    ]
    date_column = _column_index(settings.get("date_column", 0), headers, "date_column")
    fixed: Mapping[str, str] = settings.get("fixed") or {}
    skip = _skip(settings)
    first_data = max(header_index, unit_index if unit_index is not None else -1) + 1

    for index in range(first_data, len(table)):
        line = table[index]
        row_number = index + 1
        raw_cells = [cell_text(cell, thousands=thousands) for cell in line]
        raw_line = " | ".join(raw_cells)
        date_cell = line[date_column] if date_column < len(line) else None
        values = [(line[i] if i < len(line) else None) for i, _, _ in selected]
        if all(is_blank(cell_text(v)) for v in values) or is_blank(cell_text(date_cell)):
            continue  # footnotes, code rows and months not yet published
        if skip and skip.search(raw_line):
            continue
        try:
            date_text = _date_text(date_cell, settings.get("date_format"))
        except ValueError as exc:
            result.rejected.append(Rejection(row_number, raw_line, str(exc)))
            continue
        for (column, name, header), value in zip(selected, values, strict=True):
            price = cell_text(value, thousands=thousands)
            if is_blank(price):
                continue  # "…" marks a month without a quote
            unit = units[column] if column < len(units) else ""
            result.rows.append(
                RawRow(
                    commodity=name,
                    market=fixed.get("market"),
                    price_text=price,
                    unit_text=unit or fixed.get("unit"),
                    date_text=date_text,
                    price_type_text=fixed.get("price_type"),
                    currency_text=fixed.get("currency"),
                    source_text=fixed.get("source"),
                    row_number=row_number,
                    raw=f"{header} | {date_text} | {price} | {unit}".rstrip(" |"),
                )
            )
    return result


def _parse_long(table: list[list[Cell]], settings: Mapping[str, Any]) -> ParseResult:
    result = ParseResult()
    thousands = settings.get("thousands", ".")
    header_index = _row_index(settings, "header_row", 1)
    assert header_index is not None
    if header_index >= len(table):
        raise SourceError(f"the file has {len(table)} rows; header_row is {header_index + 1}")
    headers = [cell_text(cell) for cell in table[header_index]]
    columns: Mapping[str, Any] = settings.get("columns") or {}
    fixed: Mapping[str, str] = settings.get("fixed") or {}
    mapping: dict[str, int] = {}
    for field, spec in columns.items():
        if field not in FIELDS:
            raise SourceError(f"unknown field {field!r} in columns; known: {', '.join(FIELDS)}")
        mapping[field] = _column_index(spec, headers, field)
    if "price" not in mapping:
        raise SourceError("columns must map 'price' to a header or index")
    if "commodity" not in mapping and "commodity" not in fixed:
        raise SourceError("columns must map 'commodity' (or fixed must give it)")
    skip = _skip(settings)
    date_format = settings.get("date_format")

    for index in range(header_index + 1, len(table)):
        line = table[index]
        row_number = index + 1
        texts = [cell_text(cell, thousands=thousands) for cell in line]
        raw = " | ".join(texts)
        if all(is_blank(text) for text in texts):
            continue
        if skip and (skip.search(raw) or skip.search(fold(raw))):
            continue
        values: dict[str, str | None] = {}
        for field, column in mapping.items():
            cell = line[column] if column < len(line) else None
            if field == "date" and cell is not None and not is_blank(cell_text(cell)):
                try:
                    values[field] = _date_text(cell, date_format)
                except ValueError as exc:
                    values[field] = None
                    result.rejected.append(Rejection(row_number, raw, str(exc)))
                    break
            else:
                values[field] = cell_text(cell, thousands=thousands) or None
        else:
            for field, value in fixed.items():
                if not values.get(field):
                    values[field] = str(value)
            if is_blank(values.get("price")):
                result.rejected.append(Rejection(row_number, raw, _("no price printed")))
                continue
            if not values.get("commodity"):
                result.rejected.append(Rejection(row_number, raw, _("no commodity name")))
                continue
            result.rows.append(
                RawRow(
                    commodity=str(values["commodity"]),
                    market=values.get("market"),
                    price_text=str(values["price"]),
                    unit_text=values.get("unit"),
                    date_text=values.get("date"),
                    change_text=values.get("change"),
                    price_type_text=values.get("price_type"),
                    currency_text=values.get("currency"),
                    source_text=values.get("source"),
                    row_number=row_number,
                    raw=raw,
                )
            )
    return result


def parse(content: bytes, *, settings: Mapping[str, Any], today: date) -> ParseResult:
    """Read a CSV or XLSX file in the configured layout into rows (pure, no I/O)."""
    del today  # dates stay text; normalise reads them
    table = read_table(content, settings)
    layout = fold(str(settings.get("layout") or "long"))
    if layout == "wide":
        result = _parse_wide(table, settings)
    elif layout == "long":
        result = _parse_long(table, settings)
    else:
        raise SourceError(f"layout must be 'long' or 'wide', got {settings.get('layout')!r}")
    unknown = unknown_settings(settings, SETTINGS_HELP)
    if unknown:
        result.warnings.append(f"unknown settings ignored: {', '.join(unknown)}")
    return result


def _local_path(url: str) -> Path | None:
    parts = urlsplit(url)
    if parts.scheme == "file":
        return Path(unquote(parts.path))
    if parts.scheme in ("http", "https"):
        return None
    return Path(url)


def collect(*, fetcher: Fetcher, url: str, settings: Mapping[str, Any], today: date) -> Collected:
    """GET the file (or read it when *url* is a local path or file:// URL) and parse it."""
    path = _local_path(url)
    if path is not None:
        try:
            content = path.read_bytes()
        except OSError as exc:
            raise SourceError(f"cannot read {path}: {exc.strerror or exc}") from exc
        where = path.resolve().as_uri()
    else:
        page = fetcher.get(url)
        content, where = page.content, page.url
    result = parse(content, settings=settings, today=today)
    return Collected(
        pages=[where],
        result=result,
        defaults=dict(result.defaults),
        thousands=settings.get("thousands", "."),
        scale=None,
    )
