"""Autolog for scikit-learn: every ``fit`` logs params, training score, fit time and the fitted model.

``fit`` is wrapped on each estimator class scikit-learn lists (as MLflow
does). A fit inside another fit (a meta-estimator's inner models) is not
logged again. With a run active the fit logs into it; without one, a run is
started for the fit and ended after it. The model is stored with skops
(loading it executes no code) when skops is installed, else it is not
stored and a tag says why.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from keel.core.errors import InvalidInput, MissingExtra

log = logging.getLogger("keel.tracking")

_state = threading.local()
_patched: dict[type, Callable[..., Any]] = {}


def _params_of(estimator: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in estimator.get_params(deep=False).items():
        if isinstance(value, bool | int | float | str) or value is None:
            out[key] = value
        else:
            out[key] = repr(value)[:250]
    return out


def _model_bytes(estimator: Any) -> bytes | None:
    try:
        import skops.io as sio
    except ImportError:
        return None
    return bytes(sio.dumps(estimator))


def _record(run: Any, estimator: Any, args: tuple[Any, ...], kwargs: dict[str, Any], seconds: float) -> None:
    name = type(estimator).__name__
    try:
        run.log_params(_params_of(estimator))
    except InvalidInput as exc:  # an earlier fit in this run logged other values
        log.warning("keel autolog: params of %s not logged: %s", name, exc.message)
    run.set_tags({"estimator": f"{type(estimator).__module__}.{name}"})
    run.log_metric("fit_time_s", seconds)
    X = args[0] if args else kwargs.get("X")
    y = args[1] if len(args) > 1 else kwargs.get("y")
    if X is not None and y is not None and hasattr(estimator, "score"):
        try:
            run.log_metric("training_score", float(estimator.score(X, y)))
        except Exception as exc:
            log.warning("keel autolog: training score of %s failed: %s", name, exc)
    data = _model_bytes(estimator)
    if data is None:
        run.set_tag("model", "not stored: install skops (pip install 'keel[sklearn]')")
    else:
        run.log_bytes(data, "model/model.skops")


def _wrap(cls: type, original: Callable[..., Any], start_run: Any, active_run: Any) -> Callable[..., Any]:
    @functools.wraps(original)
    def fit(self: Any, *args: Any, **kwargs: Any) -> Any:
        if getattr(_state, "depth", 0) > 0:  # an inner fit (meta-estimator, super().fit): not logged again
            return original(self, *args, **kwargs)
        _state.depth = getattr(_state, "depth", 0) + 1
        try:
            started = time.perf_counter()
            result = original(self, *args, **kwargs)
            seconds = time.perf_counter() - started
        finally:
            _state.depth -= 1
        run = active_run()
        if run is None:
            with start_run(name=type(self).__name__) as own:
                _record(own, self, args, kwargs, seconds)
        else:
            _record(run, self, args, kwargs, seconds)
        return result

    fit.__keel_autolog__ = True  # type: ignore[attr-defined]
    return fit


def enable_sklearn(*, start_run: Any, active_run: Any, disable: bool = False) -> int:
    """Wrap (or, with ``disable``, unwrap) ``fit`` of every scikit-learn estimator; returns how many."""
    if disable:
        for cls, original in _patched.items():
            cls.fit = original  # type: ignore[attr-defined]
        count = len(_patched)
        _patched.clear()
        return count
    try:
        from sklearn.utils import all_estimators
    except ImportError:
        raise MissingExtra("autolog needs scikit-learn", hint="pip install 'keel[sklearn]'") from None
    for _, cls in all_estimators():
        original = cls.__dict__.get("fit")
        if original is None or cls in _patched or getattr(original, "__keel_autolog__", False):
            continue
        _patched[cls] = original
        cls.fit = _wrap(cls, original, start_run, active_run)
    return len(_patched)
