"""The run a training script holds: ``with keel.start_run(...) as run: run.log_metric(...)``.

Metrics go through the run's :class:`RunLogger` (buffered, background
writer); params and tags are sent at once, so a conflicting param fails at
the call that logged it; artifacts stream to the artifact store. The handle
talks to the ``runs`` service through whatever proxy it is given (local or
remote), so this module never imports the client.
"""

from __future__ import annotations

import io
import json
import logging
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from keel.core.errors import InvalidInput, KeelError
from keel.core.timeutil import utcnow
from keel.tracking.artifact_ops import clean_path
from keel.tracking.logger import RunLogger
from keel.tracking.sampler import SystemSampler
from keel.tracking.schemas import RunRecord
from keel.tracking.values import check_key, check_text, checked_point, checked_points, normalise_param
from keel.tracking.write import MAX_BATCH_ENTRIES

log = logging.getLogger("keel.tracking")
_CHUNK = 1 << 20


def _file_chunks(path: Path) -> Any:
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            yield chunk


class ActiveRun:
    """A run being logged to from this process."""

    def __init__(
        self,
        runs: Any,
        run: RunRecord,
        *,
        logger: RunLogger,
        sampler_interval: float = 0.0,
        parent: ActiveRun | None = None,
        owner: bool = True,
    ) -> None:
        self._runs = runs
        self.info = run
        self.id = run.id
        self.name = run.name
        self.project = run.project
        self.parent = parent
        #: False when this process attached to a run another process started: it never ends it.
        self.owner = owner
        self.logger = logger
        self._params: dict[str, Any] = dict(run.params)
        self._lock = threading.Lock()
        self._ended = False
        self.sampler: SystemSampler | None = None
        if sampler_interval > 0:
            try:
                self.sampler = SystemSampler(self._emit_system, interval=sampler_interval)
            except ImportError:
                log.warning("keel: psutil is not installed; no system metrics")

    @property
    def ref(self) -> str:
        return f"run:{self.id}"

    def __repr__(self) -> str:
        return f"<ActiveRun {self.name} {self.id}>"

    def _emit_system(self, key: str, value: float, step: int, timestamp: int) -> None:
        self.logger.log(key, value, step, timestamp)

    # -- metrics (buffered) -------------------------------------------------------------------
    def log_metric(
        self, key: str, value: float, step: int | None = None, timestamp: int | None = None
    ) -> None:
        """Log one value (returns in about a microsecond; written by the background writer)."""
        self.logger.log(*checked_point(key, value, step, timestamp))

    def log_metrics(
        self, metrics: Mapping[str, float], step: int | None = None, timestamp: int | None = None
    ) -> None:
        """Log several values at one step."""
        self.logger.log_many(checked_points(metrics, step, timestamp))

    # -- params and tags (sent now) ---------------------------------------------------------------
    def log_param(self, key: str, value: Any) -> None:
        """Record a hyperparameter; logging a different value for it later is an error."""
        self.log_params({key: value})

    def log_params(self, params: Mapping[str, Any]) -> None:
        """Record hyperparameters (int, float, bool, str or JSON keep their type)."""
        values = {check_key(k, "param key"): normalise_param(k, v) for k, v in params.items()}
        for key, value in values.items():
            if key in self._params and self._params[key] != value:
                raise InvalidInput(
                    f"param {key!r} of run {self.id} is {self._params[key]!r} already; cannot change it to {value!r}",
                    hint="params are immutable within a run; start a new run for new values",
                )
        fresh = {k: v for k, v in values.items() if k not in self._params}
        items = list(fresh.items())
        for start in range(0, len(items), MAX_BATCH_ENTRIES):  # as many batches as the API needs
            piece = dict(items[start : start + MAX_BATCH_ENTRIES])
            self._runs.log_batch(run_id=self.id, params=piece)
            self._params.update(piece)

    def set_tag(self, key: str, value: Any) -> None:
        """Set a tag (tags may change)."""
        self.set_tags({key: value})

    def set_tags(self, tags: Mapping[str, Any]) -> None:
        """Set several tags."""
        items = [(check_key(k, "tag key"), check_text(str(v), f"tag {k!r}")) for k, v in tags.items()]
        for start in range(0, len(items), MAX_BATCH_ENTRIES):
            self._runs.log_batch(run_id=self.id, tags=dict(items[start : start + MAX_BATCH_ENTRIES]))

    # -- artifacts -------------------------------------------------------------------------------------
    def log_artifact(self, local_path: str | Path, artifact_path: str | None = None) -> Any:
        """Store a file as an artifact of this run (under ``artifact_path``, default its name)."""
        path = Path(local_path)
        if not path.is_file():
            raise InvalidInput(f"{path} is not a file", hint="use log_artifacts for a folder")
        target = clean_path(f"{artifact_path.rstrip('/')}/{path.name}" if artifact_path else path.name)
        return self._runs.upload_artifact(run_id=self.id, path=target, body=_file_chunks(path))

    def log_artifacts(self, local_dir: str | Path, artifact_path: str | None = None) -> list[Any]:
        """Store every file under a folder, keeping relative paths."""
        folder = Path(local_dir)
        if not folder.is_dir():
            raise InvalidInput(f"{folder} is not a folder")
        out = []
        for file in sorted(p for p in folder.rglob("*") if p.is_file()):
            rel = file.relative_to(folder).as_posix()
            target = f"{artifact_path.rstrip('/')}/{rel}" if artifact_path else rel
            out.append(
                self._runs.upload_artifact(run_id=self.id, path=clean_path(target), body=_file_chunks(file))
            )
        return out

    def log_bytes(self, data: bytes, artifact_path: str) -> Any:
        """Store bytes as an artifact at ``artifact_path``."""
        return self._runs.upload_artifact(run_id=self.id, path=clean_path(artifact_path), body=[data])

    def log_text(self, text: str, artifact_path: str) -> Any:
        """Store text (UTF-8) as an artifact."""
        return self.log_bytes(text.encode("utf-8"), artifact_path)

    def log_dict(self, data: Any, artifact_path: str) -> Any:
        """Store a dict as JSON (or YAML when the path ends in .yaml/.yml and PyYAML is installed)."""
        if artifact_path.endswith((".yaml", ".yml")):
            try:
                import yaml

                return self.log_text(yaml.safe_dump(data, sort_keys=True), artifact_path)
            except ImportError:
                raise InvalidInput("writing YAML needs PyYAML; use a .json path") from None
        return self.log_text(json.dumps(data, indent=2, sort_keys=True, default=str), artifact_path)

    def log_figure(self, figure: Any, artifact_path: str) -> Any:
        """Store a matplotlib figure as an image (format from the extension, default PNG)."""
        if not hasattr(figure, "savefig"):
            raise InvalidInput("log_figure needs a matplotlib Figure (an object with savefig)")
        buffer = io.BytesIO()
        fmt = artifact_path.rsplit(".", 1)[-1] if "." in artifact_path else "png"
        figure.savefig(buffer, format=fmt)
        return self.log_bytes(buffer.getvalue(), artifact_path)

    # -- lineage -----------------------------------------------------------------------------------
    def use_dataset(self, ref: str, relation: str = "used") -> None:
        """Record an input: a dataset address (``churn-train@v2``), ``dataset_version:<id>``,
        any reference, or an artifact digest."""
        self._runs.use(run_id=self.id, refs=[ref], relation=relation)

    # -- lifecycle --------------------------------------------------------------------------------
    def flush(self) -> None:
        """Write every metric logged so far now (normally the background writer does it)."""
        self.logger.flush()

    def end(self, status: str = "FINISHED") -> RunRecord:
        """Flush, stop sampling, and end the run: KPIs are checked, duration and cost set.

        The run is ended only once its points are stored. If some could not be
        sent (the server is away), they wait in the spool and the end waits
        after them: ``keel run sync`` sends both, in order, and the run stays
        RUNNING until then. If the server refused points for good (they are
        kept in the spool's ``refused/`` folder), a run that would have
        FINISHED ends FAILED and the error is raised. A process attached to
        another's run only flushes; the run stays RUNNING.
        """
        with self._lock:
            if self._ended:
                return self.info
            self._ended = True
        energy = self.sampler.stop() if self.sampler is not None else None
        if not self.owner:
            self.logger.close()
            return self.info
        end_time = utcnow()
        error: KeelError | None = None
        try:
            self.logger.close()
        except KeelError as exc:
            error = exc
        if self.logger.spooled:
            self._spool_end(status, end_time, energy)
        else:
            if error is not None and status == "FINISHED":
                status = "FAILED"
            try:
                self.info = self._runs.end(
                    run_id=self.id, status=status, energy_kwh=energy, end_time=end_time
                )
            except KeelError as exc:
                if exc.retryable and self.logger.spool_path is not None:
                    self._spool_end(status, end_time, energy)
                elif error is None:
                    raise
                else:  # the refused points are the news; ending failed too, for the same cause
                    log.error("keel: ending run %s failed: %s", self.id, exc)
        if error is not None:
            raise error
        return self.info

    def _spool_end(self, status: str, end_time: Any, energy: float | None) -> None:
        path = self.logger.spool_end(status, end_time, energy)
        log.warning(
            "keel: run %s: %d batch(es) of points could not be sent; they and the run's end (%s) "
            "wait in %s. Run `keel run sync` once the server answers: the run stays RUNNING until then.",
            self.id,
            self.logger.spooled,
            status,
            path,
        )

    @property
    def ended(self) -> bool:
        return self._ended
