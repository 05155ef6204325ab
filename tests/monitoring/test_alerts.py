"""Alert rules: events deduplicated while a rule holds, resolved, cooldown, signed webhooks on 127.0.0.1."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pyarrow as pa
import pytest

from keel.client import Client
from keel.core.errors import InvalidInput, NotFound
from keel.testing.fixtures import free_port

from .conftest import PROJECT, churn_table, parquet


class Receiver:
    """A webhook receiver on 127.0.0.1 that records each body and answers ``statuses`` in turn (then 200)."""

    def __init__(self, statuses: list[int] | None = None) -> None:
        self.bodies: list[tuple[bytes, str]] = []
        self.statuses = list(statuses or [])
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.bodies.append((body, self.headers.get("X-Keel-Signature", "")))
                self.send_response(receiver.statuses.pop(0) if receiver.statuses else 200)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    made = Receiver(statuses=[500])  # the first attempt fails: delivery retries
    yield made
    made.close()


@pytest.fixture
def monitor(client: Client, add_table: Callable[[str, pa.Table], str]) -> str:
    ref = add_table("churn-train", churn_table(2000, 1))
    client.monitors.create(project=PROJECT, name="m", reference=ref)
    return "m"


def _check(client: Client, shifted: bool, seed: int) -> Any:
    table = churn_table(500, seed, shift=1.0 if shifted else 0.0)
    return client.monitors.check(project=PROJECT, name="m", data=parquet(table))


def test_a_signed_webhook_fires_once_while_the_rule_holds_then_resolves(
    client: Client, monitor: str, receiver: Receiver
) -> None:
    rule = client.monitors.add_rule(
        project=PROJECT,
        monitor=monitor,
        expression="drift.share>0.3",
        sink=f"webhook:{receiver.url}",
        cooldown_s=0,
    )
    assert rule.secret is not None and rule.expression == "drift.share > 0.3"
    assert client.monitors.rules(project=PROJECT, monitor=monitor)[0].secret is None  # shown once

    quiet = _check(client, False, 2)
    assert quiet.alerts == [] and receiver.bodies == []
    first = _check(client, True, 3)
    assert [a.state for a in first.alerts] == ["firing"]
    assert first.alerts[0].delivery == "delivered" and "2 attempt(s)" in first.alerts[0].delivery_detail
    assert len(receiver.bodies) == 2  # a 500, then the retry
    body, signature = receiver.bodies[-1]
    assert signature == "sha256=" + hmac.new(rule.secret.encode(), body, hashlib.sha256).hexdigest()
    sent = json.loads(body)
    assert sent["monitor"] == "m" and sent["expression"] == "drift.share > 0.3" and sent["value"] == 0.5

    again = _check(client, True, 4)  # still holding: folded into the open event, nothing sent
    assert [a.id for a in again.alerts] == [first.alerts[0].id] and again.alerts[0].repeats == 2
    assert len(receiver.bodies) == 2
    _check(client, False, 5)
    listed = client.monitors.alerts(project=PROJECT)
    assert [(a.id, a.state) for a in listed] == [(first.alerts[0].id, "resolved")]
    assert client.monitors.alerts(project=PROJECT, state="firing") == []

    later = _check(client, True, 6)  # cooldown 0: a new stretch is a new alert
    assert later.alerts[0].id != first.alerts[0].id and len(receiver.bodies) == 3
    stored = client.monitors.report(project=PROJECT, name="m", evaluation=later.id)
    assert [a.id for a in stored.alerts] == [later.alerts[0].id]


def test_within_the_cooldown_a_flapping_rule_reopens_its_event_quietly(client: Client, monitor: str) -> None:
    client.monitors.add_rule(project=PROJECT, monitor=monitor, expression="drift.count >= 1", cooldown_s=3600)
    first = _check(client, True, 2)
    _check(client, False, 3)
    second = _check(client, True, 4)
    assert second.alerts[0].id == first.alerts[0].id and second.alerts[0].state == "firing"
    assert second.alerts[0].repeats == 2 and len(client.monitors.alerts(project=PROJECT)) == 1


def test_an_unreachable_webhook_is_recorded_as_failed_and_never_blocks_the_monitor(
    client: Client, monitor: str
) -> None:
    url = f"http://127.0.0.1:{free_port()}/hook"  # nothing listens there
    client.monitors.add_rule(
        project=PROJECT, monitor=monitor, expression="drift.share > 0.3", sink=f"webhook:{url}"
    )
    report = _check(client, True, 2)
    assert report.drifted and client.monitors.evaluations(project=PROJECT, name="m").items[0].id == report.id
    (alert,) = report.alerts
    assert alert.delivery == "failed" and "3 attempt(s)" in alert.delivery_detail
    assert alert.delivery_detail.startswith("ConnectError")


def test_bad_rules_are_clear_errors_that_add_nothing(client: Client, monitor: str) -> None:
    cases = {
        "drift.share >> 0.3": "is not FIGURE COMPARATOR NUMBER",
        "drift.shares > 0.3": "no figure 'drift.shares'",
        "drift.share > lots": "'lots' is not a number",
        "drift.share > inf": "finite",
        "kpi.accuracy < 0.8": "no figure 'kpi.accuracy'",  # the monitor has no label column
    }
    for expression, message in cases.items():
        with pytest.raises(InvalidInput, match=message):
            client.monitors.add_rule(project=PROJECT, monitor=monitor, expression=expression)
    for sink in ("email:me@example.com", "webhook:ftp://x", "log:extra", "retrain:churn"):
        with pytest.raises(InvalidInput, match="sink"):
            client.monitors.add_rule(
                project=PROJECT, monitor=monitor, expression="drift.share > 0.3", sink=sink
            )
    with pytest.raises(InvalidInput, match="watches no deployment"):
        client.monitors.add_rule(
            project=PROJECT, monitor=monitor, expression="drift.share > 0.3", sink="retrain"
        )
    with pytest.raises(InvalidInput, match="cooldown_s"):
        client.monitors.add_rule(
            project=PROJECT, monitor=monitor, expression="drift.share > 0.3", cooldown_s=-1
        )
    with pytest.raises(NotFound, match="no monitor 'other'"):
        client.monitors.add_rule(project=PROJECT, monitor="other", expression="drift.share > 0.3")
    with pytest.raises(NotFound, match="has no rule"):
        client.monitors.delete_rule(project=PROJECT, monitor=monitor, rule="01J0000000000000000000000X")
    assert client.monitors.rules(project=PROJECT, monitor=monitor) == []
    added = client.monitors.add_rule(project=PROJECT, monitor=monitor, expression="feature.plan.drifted == 1")
    assert client.monitors.delete_rule(project=PROJECT, monitor=monitor, rule=added.id).id == added.id
    assert client.monitors.rules(project=PROJECT, monitor=monitor) == []
