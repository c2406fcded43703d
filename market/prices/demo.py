"""Demo: the real price sources the department would use, switched off (no internet here)."""

from __future__ import annotations

import tomllib

from market.config import PROJECT_ROOT
from market.demo import step
from market.prices.services import get_source, save_source

SOURCES_FILE = PROJECT_ROOT / "docs" / "sources.example.toml"


@step(30)
def price_sources() -> str | None:
    if not SOURCES_FILE.exists():
        return None
    entries = tomllib.loads(SOURCES_FILE.read_text(encoding="utf-8")).get("source", [])
    added = 0
    for entry in entries:
        entry = dict(entry)
        name = entry.pop("name")
        if get_source(name=name) is not None:
            continue
        entry["enabled"] = False
        entry["description"] = (
            (entry.get("description") or "")
            + " (Demo: switched off; switch it on where the server can reach the internet.)"
        ).strip()
        save_source(actor=None, name=name, **entry)
        added += 1
    return f"{added} price sources (switched off)" if added else None
