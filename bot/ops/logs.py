"""Logging: one line per event, text or JSON, a request id carried into follow-up work, and
no secret ever written.

Secrets are redacted by value: every token and secret the bot loads is registered here, and a
filter on the root handler replaces each occurrence in the rendered line. Redacting by value
(not by field name) also catches a token that slipped into an exception message or a URL.
"""

from __future__ import annotations

import contextvars
import json
import logging
import random
import re
import sys
import time
from datetime import UTC, datetime

request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")

_secrets: set[str] = set()
_longest_first: list[str] = []  # _secrets, sorted once per registration, not per line
# Slack tokens and Fernet-looking keys, in case one arrives that was never registered.
_TOKEN_PATTERN = re.compile(r"\bx(?:ox[abposer]|app)-[A-Za-z0-9-]{8,}")
REDACTED = "[redacted]"


def register_secret(value: str | None) -> None:
    """Never log this value. Short values are ignored: they would redact ordinary words."""
    if value and len(value) >= 8 and value not in _secrets:
        _secrets.add(value)
        _longest_first[:] = sorted(_secrets, key=len, reverse=True)


# Settings (bot.ops.config.Settings fields) that hold a token, a secret or a key.
SECRET_SETTINGS = (
    "slack_bot_token",
    "slack_signing_secret",
    "slack_app_token",
    "slack_client_secret",
    "slack_state_secret",
    "secret_key",
)


def register_settings_secrets(settings: object) -> None:
    """Register every secret the settings hold (each entry point's app goes through here)."""
    for name in SECRET_SETTINGS:
        register_secret(getattr(settings, name, None))


def redact(text: str) -> str:
    for secret in _longest_first:
        if secret in text:
            text = text.replace(secret, REDACTED)
    if "xox" in text or "xapp-" in text:  # the pattern's only beginnings: most lines skip it
        text = _TOKEN_PATTERN.sub(REDACTED, text)
    return text


def new_request_id() -> str:
    # 48 random bits tell requests apart in the logs; they guard nothing, so no urandom call.
    rid = f"{random.getrandbits(48):012x}"
    request_id.set(rid)
    return rid


class _JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "request_id": getattr(record, "request_id", "-"),
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


class _TextFormatter(logging.Formatter):
    """The text format, its date and time to the second rendered once a second, not per line."""

    def __init__(self, fmt: str) -> None:
        super().__init__(fmt)
        self._second: tuple[int, str] = (-1, "")  # one attribute: a thread reads a whole pair

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        second, stamp = self._second
        if second != int(record.created):
            second = int(record.created)
            stamp = time.strftime(self.default_time_format, self.converter(record.created))
            self._second = (second, stamp)
        return f"{stamp},{int(record.msecs):03d}"  # logging.Formatter.default_msec_format


class _ContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        return True


class _RedactingFormatter(logging.Formatter):
    """Wraps another formatter and redacts the finished line, exception text included."""

    def __init__(self, inner: logging.Formatter) -> None:
        super().__init__()
        self._inner = inner

    def format(self, record: logging.LogRecord) -> str:
        return redact(self._inner.format(record))


def configure_logging(log_format: str = "text", level: str = "INFO") -> None:
    inner: logging.Formatter
    if log_format == "json":
        inner = _JsonFormatter()
    else:
        inner = _TextFormatter("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_RedactingFormatter(inner))
    handler.addFilter(_ContextFilter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    # No format here shows the thread, the process or the caller's source line: not collecting
    # them saves a few µs a line (the logging HOWTO's "Optimization" section names these).
    logging._srcfile = None
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
