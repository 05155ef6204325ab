"""Pipelines the tests run: module-level, so forked pool workers find their steps by name."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

import keel.pipelines as kp

CALLS: list[str] = []


def scale(x: float, factor: float) -> float:
    """A helper of the same module: editing it must change the cache key of the steps that call it."""
    return x * factor


@kp.step(cpu=1)
def load(n: int = 3) -> list[float]:
    CALLS.append("load")
    return [float(i) for i in range(n)]


@kp.step
def prepare(rows: list[float], factor: float = 2.0) -> list[float]:
    CALLS.append("prepare")
    return [scale(r, factor) for r in rows]


@kp.step
def total(rows: list[float]) -> float:
    CALLS.append("total")
    return sum(rows)


@kp.step
def count(rows: list[float]) -> int:
    CALLS.append("count")
    return len(rows)


@kp.step
def report(s: float, n: int) -> dict[str, float]:
    CALLS.append("report")
    return {"mean": s / n, "n": n}


@kp.pipeline
def demo(n: Annotated[int, Field(ge=1, le=100)] = 3, factor: float = 2.0) -> object:
    rows = prepare(load(n), factor=factor)
    return report(total(rows), count(rows))


@kp.step
def boom(rows: list[float]) -> float:
    raise ValueError("the data has no label column")


@kp.pipeline
def failing(n: int = 3) -> object:
    rows = load(n)
    ok = count(rows)
    return boom(rows), ok


@kp.step
def wrong(rows: list[float]) -> int:
    return "not an int"  # type: ignore[return-value]


@kp.pipeline
def wrong_type() -> object:
    return wrong(load())


@kp.step
def needs_text(s: str) -> str:
    return s


@kp.pipeline
def mismatch() -> object:
    return needs_text(count(load()))


@kp.pipeline
def missing_input() -> object:
    return report(total(load()))


@kp.pipeline
def cyclic() -> object:
    a = count(load())
    b = total(load())
    a.after(b)
    b.after(a)
    return a


@kp.step
def fit(rows: list[float], lr: float = 0.1) -> float:
    """Logs a learning curve and a final score to its child run."""
    CALLS.append("fit")
    for epoch in range(3):
        kp.log_metrics({"loss": 1.0 / (epoch + 1)}, step=epoch)
    kp.log_metric("score", lr * len(rows))
    return lr * len(rows)


@kp.step
def best(**scores: float) -> str:
    CALLS.append("best")
    return max(scores, key=lambda k: scores[k])


@kp.pipeline
def grid(n: int = 3) -> object:
    rows = load(n)
    fits = {f"fit-{lr}": fit.named(f"fit-{lr}")(rows, lr=lr) for lr in (0.1, 0.5)}
    return best(**fits)


@kp.step
def learn(lr: float = 0.1, depth: int = 2) -> float:
    """A fake training: a curve per epoch; the best lr is 0.3, deeper is a little better."""
    CALLS.append("learn")
    score = 0.0
    for epoch in range(4):
        score = (1.0 - abs(lr - 0.3)) * (epoch + 1) / 4 + depth / 100
        kp.log_metric("score", score, step=epoch)
    return score


@kp.pipeline
def tune(lr: Annotated[float, Field(gt=0, le=1)] = 0.1, depth: int = 2) -> object:
    return learn(lr=lr, depth=depth)
