"""Autolog for scikit-learn: the outermost ``fit`` logs params, training score, fit time and the model.

``fit`` is wrapped on every estimator class scikit-learn lists (as MLflow
does), whether the class defines ``fit`` itself or inherits it from a base
scikit-learn does not list (``RandomForestClassifier`` gets its ``fit`` from
``BaseForest``, ``HistGradientBoostingClassifier`` from
``BaseHistGradientBoosting``). Only the outermost fit logs: the fits a
meta-estimator makes inside it (a gradient-boosting model's init estimator
and trees, a pipeline's steps, a search's candidates) never log and never
start runs, in this thread or in worker threads the outer fit started
(joblib's threading backend; a process backend's workers are never patched).
With a run active the fit logs into it; without one, a run is started for the
fit and ended after it.

A hyperparameter search (``GridSearchCV``, ``RandomizedSearchCV``, anything
with ``cv_results_``) logs the best params (``best_<name>``) and best score
on its run, and one child run per candidate with that candidate's params and
cross-validation scores, as MLflow does.

The model is stored with skops (loading it executes no code) when skops is
installed, else it is not stored and a tag says why.
"""

from __future__ import annotations

import functools
import logging
import math
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, Final

from keel.core.errors import InvalidInput, MissingExtra

log = logging.getLogger("keel.tracking")

_state = threading.local()
#: class -> its own ``fit`` before patching (None when it inherited ``fit``: patching added one).
_patched: dict[type, Callable[..., Any] | None] = {}
#: Children a search may log; past this the rest are summarised on the parent only.
MAX_CHILD_RUNS: Final = 500


def _plain(value: Any) -> Any:
    if isinstance(value, bool | int | str) or value is None:
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else repr(value)
    if hasattr(value, "item") and callable(value.item):  # numpy scalars
        try:
            return _plain(value.item())
        except (TypeError, ValueError):
            pass
    return repr(value)[:250]


def params_of(estimator: Any) -> dict[str, Any]:
    """The estimator's params, nested ones included (``clf__C``), as values a param can hold."""
    try:
        params = estimator.get_params(deep=True)
    except Exception:  # a third-party estimator whose get_params needs more
        params = estimator.get_params(deep=False)
    return {key: _plain(value) for key, value in params.items()}


def _model_bytes(estimator: Any) -> bytes | None:
    try:
        import skops.io as sio
    except ImportError:
        return None
    return bytes(sio.dumps(estimator))


def _xy(args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> tuple[Any, Any]:
    X = args[0] if args else kwargs.get("X")
    y = args[1] if len(args) > 1 else kwargs.get("y")
    return X, y


def _record(
    run: Any, estimator: Any, args: tuple[Any, ...], kwargs: dict[str, Any], seconds: float, start_run: Any
) -> None:
    name = type(estimator).__name__
    try:
        run.log_params(params_of(estimator))
    except InvalidInput as exc:  # an earlier fit in this run logged other values
        log.warning("keel autolog: params of %s not logged: %s", name, exc.message)
    run.set_tags({"estimator": f"{type(estimator).__module__}.{name}"})
    run.log_metric("fit_time_s", seconds)
    X, y = _xy(args, kwargs)
    if X is not None and y is not None and hasattr(estimator, "score"):
        try:
            run.log_metric("training_score", float(estimator.score(X, y)))
        except Exception as exc:
            log.warning("keel autolog: training score of %s failed: %s", name, exc)
    if hasattr(estimator, "cv_results_"):
        _record_search(run, estimator, start_run)
    data = _model_bytes(estimator)
    if data is None:
        run.set_tag("model", "not stored: install skops (pip install 'keel[sklearn]')")
    else:
        run.log_bytes(data, "model/model.skops")


def _record_search(run: Any, search: Any, start_run: Any) -> None:
    """Best params and score on the search's run; one child run per candidate."""
    best = getattr(search, "best_params_", None)
    if best:
        run.log_params({f"best_{key}": _plain(value) for key, value in best.items()})
    score = getattr(search, "best_score_", None)
    if isinstance(score, int | float) and math.isfinite(score):
        run.log_metric("best_cv_score", float(score))
    results = search.cv_results_
    candidates = results.get("params", [])
    columns = [c for c in results if c.startswith(("mean_", "std_", "rank_"))]
    for index, candidate in enumerate(candidates[:MAX_CHILD_RUNS]):
        metrics = {}
        for column in columns:
            value = results[column][index]
            try:
                metrics[column] = float(value)
            except (TypeError, ValueError):
                continue
        params = {key: _plain(value) for key, value in candidate.items()}
        with start_run(
            name=f"{run.name}-{index}", parent_id=run, params=params, system_metrics=False, capture_env=False
        ) as child:
            child.log_metrics(metrics, step=0)
    if len(candidates) > MAX_CHILD_RUNS:
        run.set_tag("autolog", f"{len(candidates)} candidates; child runs for the first {MAX_CHILD_RUNS}")


_outer_lock = threading.Lock()
_outer_count = 0


def _count_outer(delta: int) -> None:
    global _outer_count
    with _outer_lock:
        _outer_count += delta


def _outer_fits_elsewhere() -> bool:
    """Whether an outermost fit is in progress in another thread of this process.

    A thread with no run of its own that fits while one is in progress is
    taken for a worker of that fit (joblib's threading backend), so it does not
    log; a thread with its own active run always logs into it.
    """
    return _outer_count > 0


def _wrap(original: Callable[..., Any], start_run: Any, active_run: Any) -> Callable[..., Any]:
    @functools.wraps(original)
    def fit(self: Any, *args: Any, **kwargs: Any) -> Any:
        if getattr(_state, "depth", 0) > 0:  # a fit inside the outermost one: never logged
            return original(self, *args, **kwargs)
        if _outer_fits_elsewhere() and active_run() is None:
            # a worker thread of an outer fit (joblib's threading backend): nested, not logged
            return original(self, *args, **kwargs)
        _state.depth = 1
        _count_outer(+1)
        try:
            started = time.perf_counter()
            result = original(self, *args, **kwargs)
            seconds = time.perf_counter() - started
            run = active_run()
            if run is None:
                with start_run(name=type(self).__name__) as own:
                    _record(own, self, args, kwargs, seconds, start_run)
            else:
                _record(run, self, args, kwargs, seconds, start_run)
        finally:
            _state.depth = 0  # recording (model.score, skops) may call fit-like code too
            _count_outer(-1)
        return result

    fit.__keel_autolog__ = True  # type: ignore[attr-defined]
    return fit


def enable_sklearn(*, start_run: Any, active_run: Any, disable: bool = False) -> int:
    """Wrap (or, with ``disable``, unwrap) ``fit`` of every scikit-learn estimator; returns how many."""
    if disable:
        for cls, own in _patched.items():
            if own is None:
                del cls.fit  # type: ignore[attr-defined]
            else:
                cls.fit = own  # type: ignore[attr-defined]
        count = len(_patched)
        _patched.clear()
        return count
    try:
        from sklearn.utils import all_estimators
    except ImportError:
        raise MissingExtra("autolog needs scikit-learn", hint="pip install 'keel[sklearn]'") from None
    for _, cls in all_estimators():
        if cls in _patched:
            continue
        own = cls.__dict__.get("fit")
        if own is not None and getattr(own, "__keel_autolog__", False):
            continue
        inherited = getattr(cls, "fit", None)
        if inherited is None:
            continue
        original = (
            getattr(inherited, "__wrapped__", inherited)
            if getattr(inherited, "__keel_autolog__", False)
            else inherited
        )
        _patched[cls] = own
        cls.fit = _wrap(original, start_run, active_run)
    return len(_patched)
