"""``serve_logging(fmt)``: the bot's logging as `transition-bot serve` configures it, for the
length of a ``with`` block inside a test (pytest's own capture handlers are put back before
the test's call phase ends, so pytest and later tests find them as they left them)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from bot.ops.logs import configure_logging


@contextmanager
def serve_logging(log_format: str, level: str = "DEBUG") -> Iterator[None]:
    root = logging.getLogger()
    handlers, old_level = list(root.handlers), root.level
    configure_logging(log_format, level)
    try:
        yield
    finally:
        root.handlers[:] = handlers
        root.setLevel(old_level)
