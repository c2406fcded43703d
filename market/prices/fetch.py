"""Polite HTTP for price collection: one session, robots.txt, per-host delay, retries, size cap.

Government and news sites are slow, declare wrong charsets and sometimes fail for a moment; a
collector must neither hammer them nor store mojibake. Everything time-related (``sleep``,
``clock``) is injectable so tests run without waiting.
"""

from __future__ import annotations

import codecs
import re
import time
import urllib.robotparser
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from types import TracebackType
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
from requests.compat import chardet

from market.text import strip_marks

__all__ = [
    "DEFAULT_USER_AGENT",
    "FetchError",
    "Fetcher",
    "Page",
    "RobotsDisallowed",
    "ascii_header",
    "decode",
]

DEFAULT_USER_AGENT = (
    "QuangTriMarketBot/1.0 (+https://sct.quangtri.gov.vn; Sở Công Thương Quảng Trị)"
)
"""Sent with the Vietnamese letters spelt in ASCII: HTTP header values must be Latin-1."""
MAX_RETRY_AFTER = 60.0
_CHUNK = 64 * 1024
_TRANSIENT = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
)


@dataclass(frozen=True)
class Page:
    """One fetched page: decoded ``text`` for HTML/CSV, raw ``content`` for binary files."""

    url: str
    status: int
    text: str
    content_type: str | None
    encoding: str | None
    fetched_at: datetime
    content: bytes = field(default=b"", repr=False)


class FetchError(Exception):
    """The page could not be fetched; ``url`` says which and the message says why."""

    def __init__(self, url: str, message: str, *, status: int | None = None) -> None:
        super().__init__(f"{message} ({url})")
        self.url = url
        self.status = status


class RobotsDisallowed(FetchError):
    """The site's robots.txt asks bots like ours not to fetch this URL."""


# ---------------------------------------------------------------------------
# Decoding
# ---------------------------------------------------------------------------

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_META_CHARSET = re.compile(
    rb"""<meta[^>]+charset\s*=\s*["']?\s*([a-zA-Z0-9_.:-]+)""", re.IGNORECASE
)
_HEADER_CHARSET = re.compile(r"""charset\s*=\s*["']?([a-zA-Z0-9_.:-]+)""", re.IGNORECASE)
_TEXT_TYPES = {
    "application/xml",
    "application/json",
    "application/javascript",
    "application/csv",
}


def _codec(name: str | None) -> str | None:
    """Python's canonical name of a declared charset, or None when Python does not know it."""
    if not name:
        return None
    try:
        return codecs.lookup(name.strip().strip("\"'")).name
    except LookupError:
        return None


def _strict(content: bytes, encoding: str) -> str | None:
    try:
        return content.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return None


def decode(
    content: bytes,
    content_type: str | None = None,
    *,
    apparent: Callable[[], str | None] | None = None,
) -> tuple[str, str]:
    """Decode a page and return ``(text, encoding)``, never mojibake for Vietnamese UTF-8.

    Order: a byte-order mark; the charset declared in the HTTP header, else in ``<meta>``; but a
    single-byte declaration (often a server default "iso-8859-1") loses to UTF-8 when the bytes
    are valid UTF-8 with non-ASCII characters, since legacy text is almost never valid UTF-8.
    Then UTF-8, then *apparent* (requests' guess), then UTF-8 with replacement characters.
    """
    for bom, encoding in _BOMS:
        if content.startswith(bom):
            return content.decode(encoding, errors="replace"), encoding

    header = _HEADER_CHARSET.search(content_type or "")
    meta = _META_CHARSET.search(content[:4096])
    declared = [
        _codec(header.group(1) if header else None),
        _codec(meta.group(1).decode("ascii", "replace") if meta else None),
    ]
    as_utf8 = _strict(content, "utf-8")
    non_ascii = any(byte >= 0x80 for byte in content)
    for encoding in declared:
        if encoding is None:
            continue
        if encoding == "utf-8":
            if as_utf8 is not None:
                return as_utf8, "utf-8"
            continue
        if as_utf8 is not None and non_ascii and not encoding.startswith("utf-"):
            return as_utf8, "utf-8"
        text = _strict(content, encoding)
        if text is not None:
            return text, encoding
    if as_utf8 is not None:
        return as_utf8, "utf-8"
    guess = _codec(apparent()) if apparent is not None else None
    if guess is not None and (text := _strict(content, guess)) is not None:
        return text, guess
    return content.decode("utf-8", errors="replace"), "utf-8"


def _is_text(content_type: str | None) -> bool:
    """Whether to decode: HTML, CSV, JSON… yes; spreadsheets and other binaries no."""
    if not content_type:
        return True
    mime = content_type.split(";")[0].strip().lower()
    return mime.startswith("text/") or mime in _TEXT_TYPES or mime.endswith(("+xml", "+json"))


# ---------------------------------------------------------------------------
# Fetcher
# ---------------------------------------------------------------------------


def ascii_header(text: str) -> str:
    """Spell Vietnamese in ASCII ("Sở Công Thương" → "So Cong Thuong") for an HTTP header."""
    return strip_marks(text).encode("ascii", errors="replace").decode("ascii")


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def _retry_after(value: str | None) -> float | None:
    """Seconds a 429/503 asks us to wait (seconds or an HTTP date), capped at a minute."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        seconds = float(value)
    else:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - datetime.now(UTC)).total_seconds()
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)


class Fetcher:
    """Fetch pages politely through one ``requests.Session``; use as a context manager."""

    def __init__(
        self,
        *,
        user_agent: str = DEFAULT_USER_AGENT,
        timeout: float | tuple[float, float] = (5, 30),
        retries: int = 3,
        backoff: float = 0.5,
        delay: float = 1.0,
        max_bytes: int = 5_000_000,
        respect_robots: bool = True,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if retries < 0:
            raise ValueError(f"retries must be 0 or more, got {retries}")
        self.user_agent = ascii_header(user_agent)
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.delay = delay
        self.max_bytes = max_bytes
        self.respect_robots = respect_robots
        self._sleep = sleep
        self._clock = clock
        self._last_request: dict[str, float] = {}
        self._crawl_delay: dict[str, float] = {}
        self._robots: dict[str, urllib.robotparser.RobotFileParser] = {}
        self.session = requests.Session()
        self.session.headers["User-Agent"] = self.user_agent

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the session's pooled connections."""
        self.session.close()

    def get(self, url: str, *, params: Mapping[str, Any] | None = None) -> Page:
        """GET *url* (with query *params*), honouring robots.txt, the delay and retries."""
        full = requests.Request("GET", url, params=params).prepare().url or url
        return self._fetch("GET", full)

    def post(self, url: str, *, data: Mapping[str, Any] | Sequence[tuple[str, Any]]) -> Page:
        """POST the form *data* to *url* (ASP.NET postbacks), politely like ``get``."""
        return self._fetch("POST", url, data=data)

    # -- internals ---------------------------------------------------------

    def _fetch(self, method: str, url: str, *, data: Any = None) -> Page:
        if urlsplit(url).scheme not in ("http", "https"):
            raise FetchError(url, "only http and https URLs can be fetched")
        if self.respect_robots:
            self._check_robots(url)
        status, headers, content, final_url = self._request(method, url, data=data)
        if status >= 400:
            raise FetchError(url, f"{method} failed with HTTP {status}", status=status)
        content_type = headers.get("Content-Type")
        text, encoding = "", None
        if _is_text(content_type):
            text, encoding = decode(
                content, content_type, apparent=lambda: _apparent_encoding(content)
            )
        return Page(
            url=final_url,
            status=status,
            text=text,
            content_type=content_type,
            encoding=encoding,
            fetched_at=datetime.now(UTC),
            content=content,
        )

    def _wait_turn(self, origin: str) -> None:
        """Sleep until ``delay`` seconds have passed since the last request to *origin*."""
        last = self._last_request.get(origin)
        if last is None:
            return
        gap = max(self.delay, self._crawl_delay.get(origin, 0.0))
        remaining = gap - (self._clock() - last)
        if remaining > 0:
            self._sleep(remaining)

    def _request(
        self, method: str, url: str, *, data: Any = None
    ) -> tuple[int, Mapping[str, str], bytes, str]:
        """Send with retries; return the final status, headers, body and URL.

        Connection errors, timeouts, 5xx and 429 are retried (``retries`` times, waiting
        ``backoff * 2**attempt`` or the server's Retry-After); other 4xx are returned at once.
        """
        origin = _origin(url)
        problem = ""
        wait = 0.0
        for attempt in range(self.retries + 1):
            if attempt:
                self._sleep(wait)
            self._wait_turn(origin)
            try:
                with self.session.request(
                    method, url, data=data, timeout=self.timeout, stream=True
                ) as response:
                    status = response.status_code
                    if status == 429 or status >= 500:
                        problem = f"HTTP {status}"
                        wait = _retry_after(response.headers.get("Retry-After"))
                        if wait is None:
                            wait = self.backoff * 2**attempt
                        continue
                    content = self._read_capped(response, url)
                    return status, response.headers, content, response.url
            except _TRANSIENT as exc:
                problem = f"{type(exc).__name__}: {exc}"
                wait = self.backoff * 2**attempt
            except requests.RequestException as exc:
                raise FetchError(url, f"{method} failed: {exc}") from exc
            finally:
                self._last_request[origin] = self._clock()
        status_code = int(problem[5:]) if problem.startswith("HTTP ") else None
        raise FetchError(
            url,
            f"{method} gave up after {self.retries + 1} attempts; last problem: {problem}",
            status=status_code,
        )

    def _read_capped(self, response: requests.Response, url: str) -> bytes:
        """Read the body, refusing anything larger than ``max_bytes`` (declared or streamed)."""
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            raise FetchError(
                url, f"response of {int(declared)} bytes is larger than {self.max_bytes}"
            )
        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_content(_CHUNK):
            size += len(chunk)
            if size > self.max_bytes:
                raise FetchError(url, f"response is larger than {self.max_bytes} bytes")
            chunks.append(chunk)
        return b"".join(chunks)

    def _check_robots(self, url: str) -> None:
        origin = _origin(url)
        parser = self._robots.get(origin)
        if parser is None:
            parser = self._load_robots(origin)
            self._robots[origin] = parser
        if not parser.can_fetch(self.user_agent, url):
            raise RobotsDisallowed(url, "robots.txt disallows this URL for our user agent")

    def _load_robots(self, origin: str) -> urllib.robotparser.RobotFileParser:
        """Fetch robots.txt once per host: 4xx allows all, 5xx or no answer means try later."""
        robots_url = urljoin(origin + "/", "/robots.txt")
        parser = urllib.robotparser.RobotFileParser(robots_url)
        try:
            status, _, content, _ = self._request("GET", robots_url)
        except FetchError as exc:
            raise FetchError(robots_url, f"robots.txt unavailable, try later: {exc}") from exc
        if status >= 400:
            parser.parse([])  # RFC 9309: an unavailable robots.txt allows everything
        else:
            parser.parse(content.decode("utf-8", errors="replace").splitlines())
        crawl_delay = parser.crawl_delay(self.user_agent)
        if crawl_delay:
            self._crawl_delay[origin] = min(float(crawl_delay), MAX_RETRY_AFTER)
        return parser


def _apparent_encoding(content: bytes) -> str | None:
    """What requests' ``apparent_encoding`` would guess (charset_normalizer or chardet)."""
    if chardet is None:
        return None
    return chardet.detect(content).get("encoding")
