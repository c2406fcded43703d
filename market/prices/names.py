"""Which commodity and which market a name printed by a source means.

Order: a name an official mapped before; then the catalogue's aliases, the accented form first,
then folded; then (for long product names such as "Cà phê Robusta nhân xô") the longest alias
the name contains, when exactly one commodity has it. A name that resolves to nothing is
recorded as unmapped and its prices are held, never dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sqlalchemy import select

from market.catalogue.models import Commodity, CommodityAlias, Market, MarketAlias
from market.db import utcnow
from market.extensions import db
from market.prices.models import UnmappedName
from market.text import fold

MIN_CONTAINED_ALIAS = 6  # shorter aliases ("khoai", "tiêu", "mè") match too much inside names


@dataclass
class NameIndex:
    """The catalogue's names, loaded once per collection run (not a query per row)."""

    commodity_codes: dict[str, int] = field(default_factory=dict)
    commodity_exact: dict[str, set[int]] = field(default_factory=dict)
    commodity_folded: dict[str, set[int]] = field(default_factory=dict)
    market_folded: dict[str, int] = field(default_factory=dict)
    learned: dict[tuple[str, str], UnmappedName] = field(default_factory=dict)
    _memo: dict[str, int | None] = field(default_factory=dict)

    @classmethod
    def load(cls) -> NameIndex:
        index = cls()
        for commodity in db.session.scalars(select(Commodity)):
            index.commodity_codes[commodity.code] = commodity.id
            index.commodity_folded.setdefault(commodity.name_folded, set()).add(commodity.id)
            index.commodity_exact.setdefault(commodity.name_vi.lower(), set()).add(commodity.id)
        for alias in db.session.scalars(select(CommodityAlias)):
            index.commodity_exact.setdefault(alias.alias.lower(), set()).add(alias.commodity_id)
            index.commodity_folded.setdefault(alias.alias_folded, set()).add(alias.commodity_id)
        for market in db.session.scalars(select(Market)):
            index.market_folded.setdefault(market.name_folded, market.id)
        for alias in db.session.scalars(select(MarketAlias)):
            index.market_folded.setdefault(alias.alias_folded, alias.market_id)
        for name in db.session.scalars(select(UnmappedName)):
            index.learned[(name.kind, name.name_folded)] = name
        return index

    def commodity(self, name: str) -> int | None:
        text = " ".join(name.split())
        folded = fold(text)
        learned = self.learned.get(("commodity", folded))
        if learned is not None and learned.commodity_id is not None:
            return learned.commodity_id
        if text in self.commodity_codes:
            return self.commodity_codes[text]
        for candidates in (
            self.commodity_exact.get(text.lower()),
            self.commodity_folded.get(folded),
        ):
            if candidates:
                return min(candidates)  # the catalogue's first entry owns a shared alias
        if folded not in self._memo:
            self._memo[folded] = self._contained(folded)
        return self._memo[folded]

    def _contained(self, folded: str) -> int | None:
        best_length: int = 0
        best: set[int] = set()
        for alias, ids in self.commodity_folded.items():
            if len(alias) < MIN_CONTAINED_ALIAS or len(alias) < best_length:
                continue
            if re.search(rf"(?<![a-z0-9]){re.escape(alias)}(?![a-z0-9])", folded):
                if len(alias) > best_length:
                    best_length, best = len(alias), set(ids)
                else:
                    best |= ids
        return next(iter(best)) if len(best) == 1 else None

    def market(self, name: str | None) -> int | None:
        if not name:
            return None
        folded = fold(name)
        learned = self.learned.get(("market", folded))
        if learned is not None and learned.market_id is not None:
            return learned.market_id
        if folded in self.market_folded:
            return self.market_folded[folded]
        for prefix in ("tinh ", "thanh pho ", "tp ", "tp. "):
            if folded.startswith(prefix) and folded[len(prefix) :] in self.market_folded:
                return self.market_folded[folded[len(prefix) :]]
        return None


def note_unmapped(index: NameIndex, *, kind: str, name: str, source_id: int | None) -> UnmappedName:
    """Record (or count again) a name nobody has mapped; returns its row."""
    folded = fold(name)
    row = index.learned.get((kind, folded))
    if row is None:
        row = UnmappedName(
            kind=kind, name=" ".join(name.split()), name_folded=folded, source_id=source_id
        )
        db.session.add(row)
        db.session.flush()
        index.learned[(kind, folded)] = row
    else:
        row.seen_count += 1
        row.last_seen = utcnow()
    return row
