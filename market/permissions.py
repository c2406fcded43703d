"""One place that answers "may this user do that to this thing?" for every domain.

Domains register a rule per (action, subject type) next to their services; services call
``require`` before acting, templates call ``can`` to decide which buttons to show. The HTML
pages, the JSON API, the CLI and the jobs therefore all get the same answer.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from werkzeug.exceptions import Forbidden

Rule = Callable[[Any, Any], bool]
_rules: dict[tuple[str, Any], Rule] = {}


class PermissionDenied(Forbidden):
    """Raised by ``require``; the web layer turns it into 403 (or a login redirect)."""


def rule(action: str, subject: type | str) -> Callable[[Rule], Rule]:
    """Register ``fn(user, obj) -> bool`` as the rule for ``action`` on ``subject``.

    ``subject`` is a model class, or a string naming a place without an object
    (``"verification_queue"``).
    """

    def register(fn: Rule) -> Rule:
        key = (action, subject)
        if key in _rules and _rules[key] is not fn:
            raise RuntimeError(f"two rules for {key}")
        _rules[key] = fn
        return fn

    return register


def _find(action: str, subject: Any) -> Rule | None:
    if isinstance(subject, str):
        return _rules.get((action, subject))
    cls = subject if isinstance(subject, type) else type(subject)
    for klass in cls.__mro__:
        if (action, klass) in _rules:
            return _rules[(action, klass)]
    return None


def is_signed_in(user: Any) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False))


def can(user: Any, action: str, subject: Any) -> bool:
    found = _find(action, subject)
    if found is None:
        # No rule means no permission: forgetting a rule must fail closed.
        return False
    return bool(found(user if is_signed_in(user) else None, subject))


def require(user: Any, action: str, subject: Any) -> None:
    if not can(user, action, subject):
        raise PermissionDenied()


# Rules that belong to no single domain.
@rule("view", "official_area")
def _official_area(user: Any, _subject: Any) -> bool:
    return user is not None and user.is_official


@rule("view", "admin_area")
def _admin_area(user: Any, _subject: Any) -> bool:
    return user is not None and user.is_admin
