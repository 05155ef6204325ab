"""The buffered logger: batches, back-pressure, flush, re-sends stored once, spool while unreachable."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from keel.core.errors import InvalidInput, ServerUnreachable
from keel.tracking.logger import RunLogger
from keel.tracking.spool import sync_spool
from keel.tracking.values import checked_point


class FakeServer:
    """Stores batches by (client, seq) like the service; can be down or slow."""

    def __init__(self) -> None:
        self.batches: dict[tuple[str, int], list[Any]] = {}
        self.down = False
        self.gate = threading.Event()
        self.gate.set()
        self.calls = 0

    def __call__(
        self,
        *,
        run_id: str,
        client_id: str,
        seq: int,
        metrics: list[Any] | None = None,
        series: dict[str, Any] | None = None,
    ) -> None:
        self.calls += 1
        self.gate.wait()
        if self.down:
            raise ServerUnreachable("down")
        points = [tuple(p) for p in metrics or []]
        for key, (steps, stamps, values) in (series or {}).items():
            points += [(key, v, s, t) for s, t, v in zip(steps, stamps, values, strict=True)]
        self.batches.setdefault((client_id, seq), points)

    @property
    def points(self) -> list[Any]:
        return [p for key in sorted(self.batches) for p in self.batches[key]]


def test_flush_sends_everything_in_order() -> None:
    server = FakeServer()
    logger = RunLogger("r1", server, batch_size=7)
    for i in range(100):
        logger.log("loss", float(i), i, 0)
    logger.close()
    assert [p[1] for p in server.points] == [float(i) for i in range(100)]
    assert logger.pending == 0 and logger.sent_points == 100


def test_full_buffer_waits_for_the_writer_instead_of_dropping() -> None:
    server = FakeServer()
    server.gate.clear()  # the writer is stuck
    logger = RunLogger("r1", server, capacity=10, batch_size=5)
    done = threading.Event()

    def produce() -> None:
        for i in range(40):
            logger.log("m", float(i), i, 0)
        done.set()

    thread = threading.Thread(target=produce)
    thread.start()
    assert not done.wait(0.3)  # blocked: buffer full while the writer cannot send
    assert logger.pending <= 10
    server.gate.set()
    assert done.wait(10)
    thread.join()
    logger.close()
    assert sorted(p[1] for p in server.points) == [float(i) for i in range(40)]


def test_spool_while_unreachable_then_resend_once(tmp_path: Path) -> None:
    server = FakeServer()
    server.down = True
    logger = RunLogger("r1", server, spool_dir=tmp_path, batch_size=3)
    for i in range(9):
        logger.log("m", float(i), i, 0)
    logger.flush()
    assert logger.spooled == 3 and server.batches == {}
    server.down = False
    logger.log("m", 9.0, 9, 0)
    logger.close()
    assert [p[1] for p in server.points] == [float(i) for i in range(10)]
    assert logger.spooled == 0 and list(tmp_path.iterdir()) == []


def test_a_later_process_syncs_what_was_spooled(tmp_path: Path) -> None:
    server = FakeServer()
    server.down = True
    logger = RunLogger("r1", server, spool_dir=tmp_path)
    logger.log("m", 1.0, 0, 0)
    logger.close()
    assert len(list(tmp_path.glob("*.jsonl"))) == 1
    server.down = False
    assert sync_spool(tmp_path, server).sent == 1
    assert sync_spool(tmp_path, server).sent == 0
    assert server.points == [("m", 1.0, 0, 0)]


def test_permanent_error_surfaces_on_flush() -> None:
    def refuse(**_: Any) -> None:
        raise InvalidInput("run is gone")

    logger = RunLogger("r1", refuse)
    logger.log("m", 1.0, 0, 0)
    with pytest.raises(InvalidInput, match="gone"):
        logger.close()


def test_checked_point() -> None:
    key, value, step, ts = checked_point("auc", 1, None, None)
    assert (key, value, step) == ("auc", 1.0, 0) and ts > 1_600_000_000_000
    assert checked_point("auc", 0.5, 3, 7) == ("auc", 0.5, 3, 7)
    with pytest.raises(InvalidInput, match="characters"):
        checked_point("a:b", 1.0, 0, 0)
    with pytest.raises(InvalidInput, match="logger needs"):
        RunLogger("r", FakeServer(), capacity=0)


def test_a_batch_too_large_for_the_server_is_sent_in_halves() -> None:
    from keel.core.errors import PayloadTooLarge

    server = FakeServer()

    def small(**kwargs: Any) -> None:
        if sum(len(cols[0]) for cols in kwargs["series"].values()) > 10:
            raise PayloadTooLarge("at most 10 points")
        server(**kwargs)

    logger = RunLogger("r1", small, batch_size=35)
    for i in range(35):
        logger.log("m", float(i), i, 0)
    logger.close()
    assert [p[1] for p in server.points] == [float(i) for i in range(35)]
    assert logger.sent_points == 35 and len(server.batches) == 4


def test_a_quiet_run_still_sends_heartbeats(monkeypatch: pytest.MonkeyPatch) -> None:
    import keel.tracking.logger as logger_module

    monkeypatch.setattr(logger_module, "HEARTBEAT_S", 0.0)
    beats = threading.Event()
    calls: list[dict[str, Any]] = []

    def send(**kwargs: Any) -> None:
        calls.append(kwargs)
        if kwargs == {"run_id": "r1"}:
            beats.set()

    logger = RunLogger("r1", send, interval=0.01)
    assert beats.wait(10)  # an empty batch: the server's sign that this run's process is alive
    logger.close()
    assert {"run_id": "r1"} in calls
