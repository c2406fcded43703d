"""Figures from other domains that a bulletin shows beside the prices: the hook for the
exchange's supply–demand snapshot.

The exchange (listings, matching, deals) does not exist yet, so no provider is registered and
bulletins have no supply–demand section. When it arrives, ``market/listings`` registers one:

    register_snapshot_provider(
        "supply_demand",
        _l("Supply and demand on the exchange"),
        build=lambda *, start, end: {
            "columns": [_("Commodity"), _("Offered (kg)"), _("Requested (kg)"), ...],
            "rows": [["Cà phê vối", 12000, 8000, ...], ...],
        },
    )

``build`` runs when a bulletin is drafted (and again each time the draft is recomputed); its
result is frozen in ``Bulletin.snapshot``, so a published bulletin keeps the figures it was
published with. Column headings are stored as written, in the language of the drafting run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

Builder = Callable[..., dict[str, Any]]


@dataclass(frozen=True)
class SnapshotProvider:
    key: str
    label: Any  # a lazy string: the section's heading
    build: Builder  # build(*, start: date, end: date) -> {"columns": [...], "rows": [[...]]}


_providers: dict[str, SnapshotProvider] = {}


def register_snapshot_provider(key: str, label: Any, *, build: Builder) -> SnapshotProvider:
    provider = SnapshotProvider(key, label, build)
    _providers[key] = provider
    return provider


def snapshot_providers() -> list[SnapshotProvider]:
    return list(_providers.values())


def provider_label(key: str) -> str:
    provider = _providers.get(key)
    return str(provider.label) if provider else key


def take_snapshot(*, start: date, end: date) -> dict[str, Any] | None:
    """Every provider's figures for the period, or None while there is no provider."""
    if not _providers:
        return None
    return {key: provider.build(start=start, end=end) for key, provider in _providers.items()}
