"""The main navigation: each domain adds its entry when it arrives, in its own order slot."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import url_for


@dataclass(frozen=True)
class NavItem:
    endpoint: str
    label: Any  # a lazy string, translated when the page renders
    order: int
    visible: Callable[[Any], bool]
    section: str = "main"  # "main" for everyone's menu, "staff" for the official's area


_items: dict[str, NavItem] = {}


def register(
    endpoint: str,
    label: Any,
    *,
    order: int,
    visible: Callable[[Any], bool] = lambda user: True,
    section: str = "main",
) -> None:
    _items[endpoint] = NavItem(endpoint, label, order, visible, section)


def items_for(user: Any, *, section: str = "main") -> list[dict[str, Any]]:
    from flask import request

    result = []
    for item in sorted(_items.values(), key=lambda i: i.order):
        if item.section != section or not item.visible(user):
            continue
        url = url_for(item.endpoint)
        active = request.endpoint == item.endpoint or (
            request.blueprint and item.endpoint.split(".")[0] == request.blueprint
        )
        result.append({"url": url, "label": item.label, "active": bool(active)})
    return result
