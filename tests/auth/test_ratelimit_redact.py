"""Failed sign-ins are limited per client; secrets never reach a log line."""

from __future__ import annotations

import logging

import pytest

from keel.auth.ratelimit import FailureLimiter
from keel.auth.redact import RedactingFilter, redact_secrets
from keel.auth.tokens import generate_token
from keel.core.errors import TooManyRequests


def test_limiter_refuses_after_the_limit_and_forgets_after_the_window() -> None:
    now = [0.0]
    limiter = FailureLimiter(3, 60.0, clock=lambda: now[0])
    for _ in range(3):
        limiter.check("10.0.0.1")
        limiter.failed("10.0.0.1")
    with pytest.raises(TooManyRequests, match=r"10\.0\.0\.1") as info:
        limiter.check("10.0.0.1")
    assert info.value.details["retry_after"] == 60
    limiter.check("10.0.0.2")  # another client is not affected
    now[0] = 60.0
    limiter.check("10.0.0.1")


def test_limiter_memory_is_bounded() -> None:
    limiter = FailureLimiter(1, 60.0, max_clients=10, clock=lambda: 0.0)
    for i in range(100):
        limiter.failed(f"c{i}")
    assert len(limiter._failures) == 10


def test_redaction_masks_tokens_bearer_and_passwords() -> None:
    token = generate_token()
    text = (
        f"auth {token} header Authorization: Bearer {token} "
        "db postgresql+psycopg://keel:s3cr3t@db:5432/keel dsn host=db password=hunter2 user=x"
    )
    out = redact_secrets(text)
    assert token not in out and "s3cr3t" not in out and "hunter2" not in out
    assert "postgresql+psycopg://keel:****@db:5432/keel" in out
    assert "user=x" in out


def test_logging_filter_masks_messages_and_tracebacks(caplog: pytest.LogCaptureFixture) -> None:
    token = generate_token()
    logger = logging.getLogger("keel.test.redact")
    logger.addFilter(RedactingFilter())
    with caplog.at_level(logging.INFO, logger="keel.test.redact"):
        logger.info("token %s used against %s", token, "postgresql://u:pw123@h/db")
        try:
            raise RuntimeError(f"failed with {token}")
        except RuntimeError:
            logger.exception("boom")
    text = caplog.text
    assert token not in text and "pw123" not in text
    assert "keel_****" in text


def test_filter_keeps_argument_shape_for_formatters_that_read_args() -> None:
    token = generate_token()
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s" %d',
        ("1.2.3.4:5", "GET", f"/x?t={token}", 200),
        None,
    )
    RedactingFilter().filter(record)
    assert isinstance(record.args, tuple) and record.args[3] == 200
    assert token not in record.getMessage() and "keel_****" in record.getMessage()
