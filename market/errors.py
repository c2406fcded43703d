"""Errors that services raise for the web layer to show to people."""

from __future__ import annotations


class DomainError(Exception):
    """A rule said no; ``message`` is already translated and fit to show.

    ``field`` names the form field the message belongs to, when there is one.
    """

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
