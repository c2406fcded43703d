"""Rendered public pages kept in memory while the data behind them has not changed.

Prices change a few times a day and hundreds of visitors read the same board in between, so a
visitor who is not signed in (and has no message waiting) gets the page rendered for the
previous one, as long as the data's version stamp is the same. Signed-in users get a fresh
page around the same shared body (their name and forms are only in the layout). Each web process
keeps its own small cache.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable

from flask import Response, make_response, request, session
from flask_login import current_user
from markupsafe import Markup

from market.site.i18n import current_locale

MAX_PAGES = 300
VERSION_TTL = 1.0  # seconds a data version is trusted before asking the database again


_caches: list[PageCache] = []


def clear_all() -> None:
    """Forget every kept page (tests, and after changes the version stamp does not see)."""
    for cache in _caches:
        cache.clear()


class PageCache:
    def __init__(self, max_pages: int = MAX_PAGES) -> None:
        _caches.append(self)
        self.max_pages = max_pages
        self.pages: OrderedDict[tuple, tuple[str, str]] = OrderedDict()
        self.lock = threading.Lock()
        self._version: tuple[float, str] = (0.0, "")

    def version(self, read: Callable[[], str]) -> str:
        checked, value = self._version
        now = time.monotonic()
        if now - checked > VERSION_TTL:
            value = read()
            self._version = (now, value)
        return value

    def get(self, key: tuple, version: str) -> str | None:
        with self.lock:
            found = self.pages.get(key)
            if found is None or found[0] != version:
                return None
            self.pages.move_to_end(key)
            return found[1]

    def put(self, key: tuple, version: str, body: str) -> None:
        with self.lock:
            self.pages[key] = (version, body)
            self.pages.move_to_end(key)
            while len(self.pages) > self.max_pages:
                self.pages.popitem(last=False)

    def clear(self) -> None:
        with self.lock:
            self.pages.clear()
            self._version = (0.0, "")


def cacheable() -> bool:
    """Only anonymous visitors without a pending message share renderings."""
    return not current_user.is_authenticated and not session.get("_flashes")


def _request_key(args: Iterable[str]) -> tuple:
    """The language, the path and the query arguments the page reads: anything else (a
    "?fbclid=…" that every shared link carries) must not make each visit a new page."""
    wanted = set(args)
    chosen = sorted((k, v) for k, v in request.args.items(multi=True) if k in wanted)
    return (current_locale(), request.path, tuple(chosen))


def cached_fragment(
    cache: PageCache,
    *,
    version: Callable[[], str],
    render: Callable[[], str],
    args: Iterable[str] = (),
) -> Markup:
    """The part of a page that is the same for every reader (the board, a commodity's tables and
    chart), rendered once per data version and language and shared by everyone, signed in or
    not; the layout around it is rendered per request. ``render`` must not depend on the user."""
    stamp = cache.version(version)
    key = ("fragment", *_request_key(args))
    body = cache.get(key, stamp)
    if body is None:
        body = render()
        cache.put(key, stamp, body)
    return Markup(body)


def cached_page(
    cache: PageCache,
    *,
    version: Callable[[], str],
    render: Callable[[], str],
    args: Iterable[str] = (),
) -> Response | str:
    """Serve ``render()``'s page, from the cache when nothing changed, with an ETag so that a
    phone that has the page already gets a 304 and no body. Signed-in users (their name, their
    forms' tokens, their messages) always get a fresh page and no ETag."""
    if not cacheable():
        return render()
    stamp = cache.version(version)
    key = _request_key(args)
    body = cache.get(key, stamp)
    if body is None:
        body = render()
        cache.put(key, stamp, body)
    response = make_response(body)
    response.set_etag(hashlib.sha1(f"{stamp}|{key}".encode()).hexdigest())
    return response.make_conditional(request)
