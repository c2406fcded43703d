"""Absolute links for e-mails and feeds."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from flask import current_app, has_request_context, url_for


def absolute_url(endpoint: str, **values: Any) -> str:
    """Links leaving the site start from MARKET_BASE_URL, whatever host the request came from.

    Works outside requests too (jobs, the command line), where ``url_for`` has no host.
    """
    if has_request_context():
        path = url_for(endpoint, _external=False, **values)
    else:
        path = current_app.url_map.bind("localhost").build(endpoint, values)
    return current_app.config["MARKET_BASE_URL"] + path


_UNSEEN = re.compile(r"[\x00-\x20\x7f\\]")


def safe_next(target: str | None, default: str) -> str:
    """``target`` when it is a path on this site, else ``default``: a "next" link from a query
    string must not send anyone to another host. Browsers drop tabs and newlines and read a
    backslash as a slash, so "/\t/evil.example" and "/\\evil.example" are other hosts too."""
    if not target or _UNSEEN.search(target):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    return target
