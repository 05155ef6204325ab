"""Alert rules applied to an evaluation's figures: events with deduplication, then delivery to sinks.

Deduplication: while a rule keeps holding, its one open event counts the
evaluations it held on (``repeats``) and nothing is sent again. When it
stops holding, the event is resolved. If it holds again within the rule's
cooldown of the last firing, that event is reopened quietly (a flapping
figure sends one alert, not one per window); after the cooldown, a new event
fires and is delivered.

Delivery happens after the events are committed, so a slow or unreachable
webhook never blocks the monitor or loses the event: the attempt's result
(``delivered`` or ``failed`` with the reason) is written back to the event.
Webhooks are POSTed as JSON with ``X-Keel-Signature: sha256=<HMAC of the
body with the rule's secret>`` and retried three times with backoff.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from keel.core.ids import new_id
from keel.monitoring.models import AlertEventRow, AlertRuleRow
from keel.monitoring.rules import parse_rule

log = logging.getLogger("keel.monitoring.alerts")
ATTEMPTS: Final = 3
BACKOFF_S: Final = (0.2, 0.5)
TIMEOUT_S: Final = 5.0


@dataclass(frozen=True)
class Delivery:
    """One event to send once its transaction commits."""

    event_id: str
    sink: str
    secret: str
    payload: dict[str, Any]


def apply_rules(
    session: Session,
    *,
    monitor_id: str,
    monitor_name: str,
    project: str,
    project_id: str,
    evaluation_id: str,
    figures: Mapping[str, float],
    known: list[str],
    now: datetime,
) -> list[Delivery]:
    """Open, fold, reopen or resolve each rule's event for this evaluation; the new ones to deliver."""
    rules = session.execute(select(AlertRuleRow).where(AlertRuleRow.monitor_id == monitor_id)).scalars()
    out: list[Delivery] = []
    for rule in rules:
        holds, value = parse_rule(rule.expression, known).holds(figures)
        latest = session.execute(
            select(AlertEventRow)
            .where(AlertEventRow.rule_id == rule.id)
            .order_by(AlertEventRow.id.desc())
            .limit(1)
        ).scalar_one_or_none()
        if not holds:
            if latest is not None and latest.state == "firing":
                latest.state, latest.resolved_at = "resolved", now
            continue
        assert value is not None
        if latest is not None and (
            latest.state == "firing" or now - latest.fired_at < timedelta(seconds=rule.cooldown_s)
        ):
            latest.state, latest.resolved_at = "firing", None
            latest.repeats += 1
            latest.last_seen_at, latest.value, latest.evaluation_id = now, value, evaluation_id
            continue
        event = AlertEventRow(
            id=new_id(),
            rule_id=rule.id,
            monitor_id=monitor_id,
            project_id=project_id,
            evaluation_id=evaluation_id,
            expression=rule.expression,
            value=value,
            state="firing",
            repeats=1,
            delivery="pending",
            delivery_detail="",
            fired_at=now,
            last_seen_at=now,
            resolved_at=None,
        )
        session.add(event)
        payload = {
            "event": event.id,
            "project": project,
            "monitor": monitor_name,
            "rule": rule.id,
            "expression": rule.expression,
            "value": value,
            "evaluation": evaluation_id,
            "fired_at": now.isoformat(),
        }
        out.append(Delivery(event.id, rule.sink, rule.secret, payload))
    return out


def sign(secret: str, body: bytes) -> str:
    """The ``X-Keel-Signature`` header value of a webhook body."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def deliver(
    delivery: Delivery, retrain: Callable[[Delivery], tuple[str, str]] | None = None
) -> tuple[str, str]:
    """Send one event to its sink: (``delivered`` or ``failed``, what happened). Never raises."""
    kind, _, target = delivery.sink.partition(":")
    try:
        if kind == "log":
            log.warning(
                "alert %s: %s (value %s)",
                delivery.payload["monitor"],
                delivery.payload["expression"],
                delivery.payload["value"],
            )
            return "delivered", "logged"
        if kind == "webhook":
            return _post(target, delivery)
        if kind == "retrain":
            if retrain is None:
                return "failed", "this monitor watches no deployment, so no retraining trigger can fire"
            return retrain(delivery)
        return "failed", f"unknown sink {delivery.sink!r}"
    except Exception as exc:  # a sink's failure is recorded on the event, never raised into the monitor
        return "failed", f"{type(exc).__name__}: {exc}"[:1000]


def _post(url: str, delivery: Delivery) -> tuple[str, str]:
    import httpx

    body = json.dumps(delivery.payload, sort_keys=True).encode()
    headers = {"Content-Type": "application/json", "X-Keel-Signature": sign(delivery.secret, body)}
    problem = ""
    tries = 0
    for attempt in range(ATTEMPTS):
        tries += 1
        try:
            response = httpx.post(url, content=body, headers=headers, timeout=TIMEOUT_S)
            if response.status_code < 300:
                return "delivered", f"HTTP {response.status_code} after {attempt + 1} attempt(s)"
            problem = f"HTTP {response.status_code}"
            if response.status_code < 500 and response.status_code != 429:
                break  # the receiver refused this body; retrying sends the same body
        except httpx.HTTPError as exc:
            problem = f"{type(exc).__name__}: {exc}"
        if attempt < ATTEMPTS - 1:
            time.sleep(BACKOFF_S[min(attempt, len(BACKOFF_S) - 1)])
    return "failed", f"{problem} ({tries} attempt(s))"[:1000]
