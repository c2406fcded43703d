"""``python -m benchmarks [name ...]``: run the named benchmarks, or all of them."""

from __future__ import annotations

import importlib
import logging
import sys

ALL = ["outbox", "collect", "bulletins", "prices"]


def main(argv: list[str]) -> None:
    logging.disable(logging.INFO)
    for name in argv or ALL:
        if name not in ALL:
            raise SystemExit(f"unknown benchmark {name!r}; known: {', '.join(ALL)}")
        importlib.import_module(f"benchmarks.{name}").run()


if __name__ == "__main__":
    main(sys.argv[1:])
