"""Every visible string is translated, and numbers and dates look Vietnamese."""

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from flask_babel import force_locale

from market.site.i18n import format_day, format_moment, format_number

ROOT = Path(__file__).resolve().parents[2]


def _source_messages() -> set[str]:
    with (ROOT / "babel.cfg").open() as fh:
        method_map, options_map = parse_mapping_cfg(fh)
    keywords = dict(DEFAULT_KEYWORDS, _l=None, lazy_gettext=None)
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=keywords
    ):
        found.add(message if isinstance(message, str) else message[0])
    return found


def test_vietnamese_catalogue_is_complete() -> None:
    with (ROOT / "market/translations/vi/LC_MESSAGES/messages.po").open("rb") as fh:
        catalogue = read_po(fh, locale="vi")
    # Plural messages are known by their singular, and need every form translated.
    translated = {(m.id if isinstance(m.id, str) else m.id[0]): m for m in catalogue if m.id}

    def done(message) -> bool:
        forms = message.string if isinstance(message.string, tuple) else (message.string,)
        return all(forms)

    missing = sorted(
        m for m in _source_messages() if m not in translated or not done(translated[m])
    )
    assert missing == [], f"untranslated: {missing[:20]}"
    fuzzy = sorted(m.id for m in translated.values() if m.fuzzy)
    assert fuzzy == [], f"fuzzy: {fuzzy[:20]}"


def test_vietnamese_formats(ctx) -> None:
    with force_locale("vi"):
        assert format_number(Decimal("1234.5")) == "1.234,5"
        assert format_number(86933, 0) == "86.933"
        assert format_day(date(2026, 4, 17)) == "17/04/2026"
        # Stored in UTC, shown in Asia/Ho_Chi_Minh (UTC+7): 20:30 UTC is the next morning.
        moment = datetime(2026, 4, 17, 20, 30, tzinfo=UTC)
        assert format_day(moment) == "18/04/2026"
        assert format_moment(moment) == "18/04/2026 03:30"
    with force_locale("en"):
        assert format_number(Decimal("1234.5")) == "1,234.5"
