"""The kinds of e-mail the platform sends. Each domain registers its own at import time,
so the preferences page lists new kinds without being changed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from market.alerts.models import Frequency


@dataclass(frozen=True)
class EmailKind:
    key: str
    label: Any  # lazy string
    description: Any
    default: Frequency = Frequency.immediate
    # Essential e-mails (account links) ignore preferences and carry no unsubscribe link.
    essential: bool = False
    # Some kinds make no sense in a digest (a link that expires, a time-critical alert).
    digestible: bool = True
    order: int = 100

    @property
    def choices(self) -> tuple[Frequency, ...]:
        """What a user may pick for this kind: the page offers these, set_preference allows
        only these."""
        if self.essential:
            return (Frequency.immediate,)
        if self.digestible:
            return tuple(Frequency)
        return (Frequency.immediate, Frequency.off)


_kinds: dict[str, EmailKind] = {}


def register_kind(
    key: str,
    label: Any,
    description: Any = "",
    *,
    default: Frequency = Frequency.immediate,
    essential: bool = False,
    digestible: bool = True,
    order: int = 100,
) -> EmailKind:
    kind = EmailKind(key, label, description, default, essential, digestible, order)
    _kinds[key] = kind
    return kind


def get_kind(key: str) -> EmailKind:
    try:
        return _kinds[key]
    except KeyError:
        raise KeyError(f"e-mail kind {key!r} is not registered") from None


def optional_kinds() -> list[EmailKind]:
    """The kinds a user may choose about, in page order."""
    return sorted((k for k in _kinds.values() if not k.essential), key=lambda k: k.order)
