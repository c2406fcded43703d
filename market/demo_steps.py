"""Import the modules that register demo steps (each domain adds its own line)."""

import market.bulletins.demo
import market.demo
import market.prices.demo  # noqa: F401
