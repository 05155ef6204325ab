"""Keeping secrets out of logs: tokens, bearer headers and database passwords.

A logging filter rewrites each record's message (and any traceback text)
before a handler formats it, so a secret that reaches a log call by accident
-- in an exception message, a URL, a header dump -- is masked.
"""

from __future__ import annotations

import logging
import re
from typing import Final

MASK: Final = "****"
_PATTERNS: Final = (
    # Keel API tokens wherever they appear.
    (re.compile(r"keel_[A-Za-z0-9_\-]{20,}"), "keel_" + MASK),
    # Authorization headers: Bearer <anything>.
    (re.compile(r"(?i)(bearer\s+)[^\s'\",]+"), r"\1" + MASK),
    # Passwords in URLs: scheme://user:password@host.
    (re.compile(r"([a-zA-Z][a-zA-Z0-9+.\-]*://[^:/@\s]*:)[^@/\s]+@"), r"\1" + MASK + "@"),
    # password=... in DSNs and query strings.
    (re.compile(r"(?i)(password\s*=\s*)[^\s&;'\"]+"), r"\1" + MASK),
)


def redact_secrets(text: str) -> str:
    """``text`` with every token, bearer credential and URL password masked."""
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactingFilter(logging.Filter):
    """A logging filter that masks secrets in each record's message and traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        # Mask inside the format string and each argument, keeping their shape:
        # some formatters (uvicorn's access log) read ``record.args`` themselves.
        if isinstance(record.msg, str):
            record.msg = redact_secrets(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(_mask(arg) for arg in record.args)
        elif isinstance(record.args, dict):
            record.args = {key: _mask(value) for key, value in record.args.items()}
        if record.exc_info:
            text = logging.Formatter().formatException(record.exc_info)
            record.exc_text = redact_secrets(text)
            record.exc_info = None
        elif record.exc_text:
            record.exc_text = redact_secrets(record.exc_text)
        return True


def _mask(value: object) -> object:
    return redact_secrets(value) if isinstance(value, str) else value


def install_redaction(*logger_names: str) -> RedactingFilter:
    """Add one RedactingFilter to the named loggers' handlers and to the loggers themselves."""
    flt = RedactingFilter()
    for name in logger_names or ("",):
        logger = logging.getLogger(name)
        if flt not in logger.filters:
            logger.addFilter(flt)
        for handler in logger.handlers:
            if flt not in handler.filters:
                handler.addFilter(flt)
    return flt
