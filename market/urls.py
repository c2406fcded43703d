"""Absolute links for e-mails and feeds."""

from __future__ import annotations

from typing import Any

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
