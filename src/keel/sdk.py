"""Module-level SDK calls (``keel.init``, ``keel.start_run``), the way MLflow users expect them.

The active run is a context variable, never a process global, so each thread
or asyncio task has its own; runs still open at interpreter exit or on
SIGTERM are flushed and ended (then the previous SIGTERM handler runs).
"""

from __future__ import annotations

import atexit
import contextvars
import logging
import os
import signal
import sys
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NamedTuple

from keel.client import Client, connect
from keel.core.errors import InvalidInput, NotFound
from keel.core.operations import ByteStream
from keel.tracking.active import ActiveRun
from keel.tracking.cost import hourly_price
from keel.tracking.logger import RunLogger
from keel.tracking.schemas import MetricPoint, RunRecord
from keel.tracking.values import normalise_param

log = logging.getLogger("keel")

_lock = threading.Lock()
_default: Client | None = None
_project: str | None = None


class LocalWorkspace(NamedTuple):
    """What :func:`create_local_workspace` made or found."""

    settings: Any
    created: bool
    db_url: str  #: the database URL with any password masked
    schema_before: str
    schema_after: str


def create_local_workspace(root: Path, overrides: Mapping[str, Any] | None = None) -> LocalWorkspace:
    """Create (or find) ``root/.keel``, migrate its database and give it its default project.

    Returns the workspace's settings (``overrides`` on top, as ``-c`` flags
    give them), whether the folder was new, and the schema before and after. ``keel init``, ``keel
    quickstart`` and :func:`init` in a folder without a workspace all come here,
    so every fresh workspace has a current project (MLflow's default experiment).
    """
    from keel.core.settings import load_settings
    from keel.core.workspace import create_workspace
    from keel.store.migrate import upgrade_url

    home, created = create_workspace(root)
    settings = load_settings({**(overrides or {}), "home": str(home)})
    url, before, after = upgrade_url(settings.require_db_url(), busy_timeout_ms=settings.db_busy_timeout_ms)
    ensure_default_project(connect(settings=settings))
    return LocalWorkspace(settings, created, url, before, after)


def ensure_default_project(client: Client) -> bool:
    """Create the ``default`` project unless it exists; whether it was made.

    The ``project`` setting names it until the user chooses another, so a
    workspace (``keel init``) or a database (``keel db upgrade``) is usable at once.
    """
    from keel.core.errors import AlreadyExists
    from keel.projects.service import DEFAULT_PROJECT

    try:
        client.projects.create(
            name=DEFAULT_PROJECT,
            description="Where runs and data go until you choose a project (`keel project use NAME`).",
        )
    except AlreadyExists:
        return False
    return True


def init(
    project: str | None = None,
    *,
    create: bool = False,
    url: str | None = None,
    token: str | None = None,
    home: str | Path | None = None,
) -> Client:
    """Connect (local workspace or ``url``) and choose the project later calls use.

    With no server (``url``, ``KEEL_SERVER_URL``), no database URL and no
    ``.keel/`` here or above, a workspace is created in the current folder, as
    ``mlflow`` makes ``./mlruns``, and a warning on the ``keel`` logger says where.
    With ``create=True`` a missing project is created; otherwise it must exist.
    """
    global _default, _project
    from keel.core.settings import load_settings

    settings = load_settings({"server_url": url, "token": token, "home": str(home) if home else None})
    if not settings.server_url and settings.home_path is None and settings.sources["db_url"] == "default":
        settings = create_local_workspace(Path.cwd()).settings
        log.warning(
            "keel: no workspace here or above; created %s (its current project: %s)",
            settings.home,
            settings.project,
        )
    client = connect(settings=settings)
    if project is not None:
        try:
            client.projects.get(project)
        except NotFound:
            if not create:
                raise
            client.projects.create(name=project)
    with _lock:
        _default, _project = client, project
    return client


def get_client() -> Client:
    """The client ``init`` made, or one from the settings."""
    global _default
    with _lock:
        if _default is None:
            _default = connect()
        return _default


def current_project() -> str | None:
    """The project ``init`` chose, else the ``project`` setting."""
    if _project is not None:
        return _project
    c = get_client()
    return c.settings.project if c.settings else None


# -- runs -----------------------------------------------------------------------------------------

_active: contextvars.ContextVar[Run | None] = contextvars.ContextVar("keel_active_run", default=None)
_live: dict[str, Run] = {}
_hooks_installed = False
_previous_sigterm: Any = None
_env_cache: tuple[dict[str, Any], dict[str, bytes]] | None = None


class Run(ActiveRun):
    """A run in this process; use it as a context manager, or call :meth:`end`.

    On leaving the ``with`` block the run ends FINISHED, or FAILED if an
    exception escaped; the project's offline KPIs are checked either way.
    """

    _token: contextvars.Token[Run | None] | None = None

    def __enter__(self) -> Run:
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        status = "FINISHED" if exc_type is None else ("KILLED" if exc_type is KeyboardInterrupt else "FAILED")
        _finish(self, status)

    def metric_history(self, key: str) -> list[MetricPoint]:
        """Every stored point of ``key`` (flushes first, so it includes what was just logged)."""
        self.flush()
        history: list[MetricPoint] = self._runs.metric_history(run_id=self.id, key=key)
        return history

    def log_model(
        self,
        model: Any,
        name: str,
        *,
        input_example: Any = None,
        unsafe_pickle: bool = False,
        description: str = "",
    ) -> Any:
        """Package ``model`` (signature from ``input_example``) and register it as a new version of ``name``.

        Returns the :class:`keel.registry.ModelVersion`; its manifest carries this run's metrics so far.
        """
        self.flush()
        metrics = self._runs.get(run_id=self.id).metrics
        return log_model(
            model,
            name,
            input_example=input_example,
            unsafe_pickle=unsafe_pickle,
            description=description,
            project=self.project,
            run_id=self.id,
            metrics=metrics,
        )


def _finish(run: Run, status: str) -> RunRecord:
    try:
        return run.end(status)
    finally:
        _live.pop(run.id, None)
        if _active.get() is run:
            if run._token is not None:
                try:
                    _active.reset(run._token)
                except ValueError:  # ended in another context than it started in
                    _active.set(run.parent if isinstance(run.parent, Run) else None)
            else:
                _active.set(run.parent if isinstance(run.parent, Run) else None)


def _shutdown(status: str) -> None:
    """Flush and end every run still open in this process (interpreter exit, SIGTERM)."""
    for run in list(_live.values()):
        try:
            _finish(run, status)
        except Exception as exc:
            log.error("keel: ending run %s at shutdown failed: %s", run.id, exc)


def _on_sigterm(signum: int, frame: Any) -> None:
    _shutdown("KILLED")
    previous = _previous_sigterm
    if callable(previous):
        previous(signum, frame)
    elif previous != signal.SIG_IGN:
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)


def _install_hooks() -> None:
    global _hooks_installed, _previous_sigterm
    if _hooks_installed:
        return
    _hooks_installed = True
    atexit.register(_shutdown, "FINISHED")
    previous_hook = sys.excepthook

    def excepthook(kind: type[BaseException], value: BaseException, tb: Any) -> None:
        # an exception ends the script: open runs are FAILED (KILLED on Ctrl-C), not FINISHED at exit
        _shutdown("KILLED" if issubclass(kind, KeyboardInterrupt) else "FAILED")
        previous_hook(kind, value, tb)

    sys.excepthook = excepthook
    if threading.current_thread() is threading.main_thread():
        _previous_sigterm = signal.getsignal(signal.SIGTERM)
        signal.signal(signal.SIGTERM, _on_sigterm)


def _spool_dir(c: Client) -> Path:
    home = c.settings.home_path if c.settings else None
    return home / "spool" if home else Path.home() / ".cache" / "keel" / "spool"


def _environment(capture_env: bool) -> tuple[dict[str, Any], dict[str, bytes]]:
    global _env_cache
    if not capture_env:
        return {}, {}
    if _env_cache is None:
        from keel.tracking.environment import capture

        _env_cache = capture()
    return _env_cache


def start_run(
    name: str | None = None,
    *,
    params: Mapping[str, Any] | None = None,
    tags: Mapping[str, Any] | None = None,
    parent_id: Run | str | None = None,
    run_id: str | None = None,
    project: str | None = None,
    system_metrics: bool | None = None,
    capture_env: bool = True,
    parent: Run | str | None = None,
) -> Run:
    """Start a run (or resume one with ``run_id=``) in the current project and make it active.

    A run started while another is active becomes its child. Use it as a
    context manager, or call :func:`end_run`. ``run_id=`` of a run that is
    still RUNNING attaches to it (distributed training: several processes log
    to one run); an attached process flushes its points at the end but leaves
    ending the run to the process that started it. ``parent_id`` (a run or
    its id, as ``client.runs.create(parent_id=)`` names it) makes it a child
    explicitly; ``parent=`` is its older name, still taken.
    """
    if parent is not None:
        if parent_id is not None:
            raise InvalidInput("give parent_id or parent (its older name), not both")
        parent_id = parent
    c = get_client()
    settings = c.settings
    outer = _active.get()
    parent_id = parent_id.id if isinstance(parent_id, ActiveRun) else parent_id
    if parent_id is None and outer is not None and run_id is None:
        parent_id = outer.id
    attached = False
    if run_id is not None:
        info: RunRecord = c.runs.get(run_id=run_id)
        if info.status == "RUNNING":
            attached = True  # another process runs it (distributed training): log, never end it
        else:
            info = c.runs.resume(run_id=run_id)
    else:
        project = project or current_project()
        if not project:
            raise InvalidInput("no project to log to", hint="call keel.init(project='...') or pass project=")
        env, files = _environment(capture_env)
        price = hourly_price(
            settings.hourly_price if settings else None, settings.instance_type if settings else None
        )
        # the environment's files are stored first and the run made in one call with them, so a
        # start that fails (no artifact store, say) leaves no run behind
        from keel.artifact_service.service import ArtifactService

        uploads = c.service(ArtifactService)
        stored = {
            path: uploads.upload(project=project, data=ByteStream([data], size=len(data))).digest
            for path, data in files.items()
        }
        info = c.runs.create(
            project=project,
            name=name,
            params={k: normalise_param(k, v) for k, v in (params or {}).items()},
            tags={k: str(v) for k, v in (tags or {}).items()},
            parent_id=parent_id,
            environment=env,
            hourly_price=price,
            artifacts=stored,
        )
    interval = settings.system_metrics_interval_s if settings else 10.0
    if system_metrics is False:
        interval = 0.0
    logger = RunLogger(info.id, c.runs.log_batch, spool_dir=_spool_dir(c))
    run = Run(c.runs, info, logger=logger, sampler_interval=interval or 0.0, parent=outer, owner=not attached)
    if run_id is not None and (params or tags):
        run.log_params(params or {})
        run.set_tags(tags or {})
    run._token = _active.set(run)
    _live[run.id] = run
    _install_hooks()
    return run


def active_run() -> Run | None:
    """The run active in this context (thread or task), if any."""
    return _active.get()


def end_run(status: str = "FINISHED") -> RunRecord | None:
    """End the active run (flushing its metrics); its parent, if any, becomes active again."""
    run = _active.get()
    return None if run is None else _finish(run, status)


def _require_run() -> Run:
    run = _active.get()
    if run is None:
        raise InvalidInput("no active run", hint="call keel.start_run() first")
    return run


def log_metric(key: str, value: float, step: int | None = None, timestamp: int | None = None) -> None:
    """Log one metric value to the active run."""
    _require_run().log_metric(key, value, step, timestamp)


def log_metrics(metrics: Mapping[str, float], step: int | None = None) -> None:
    """Log metric values to the active run."""
    _require_run().log_metrics(metrics, step)


def log_param(key: str, value: Any) -> None:
    """Record a hyperparameter of the active run."""
    _require_run().log_param(key, value)


def log_params(params: Mapping[str, Any]) -> None:
    """Record hyperparameters of the active run."""
    _require_run().log_params(params)


def set_tag(key: str, value: Any) -> None:
    """Set a tag on the active run."""
    _require_run().set_tag(key, value)


def set_tags(tags: Mapping[str, Any]) -> None:
    """Set tags on the active run."""
    _require_run().set_tags(tags)


def log_artifact(local_path: str | Path, artifact_path: str | None = None) -> Any:
    """Store a file as an artifact of the active run."""
    return _require_run().log_artifact(local_path, artifact_path)


class StoredRun:
    """A stored run read back (``keel.get_run``): the record's fields, plus metric histories on demand."""

    def __init__(self, c: Client, info: RunRecord) -> None:
        self._client = c
        self.info = info

    def __getattr__(self, name: str) -> Any:
        return getattr(self.info, name)

    def __repr__(self) -> str:
        return f"<StoredRun {self.info.name} {self.info.id} {self.info.status}>"

    def metric_history(self, key: str) -> list[MetricPoint]:
        """Every point of ``key``, by step."""
        return self._client.runs.metric_history(run_id=self.info.id, key=key)


def get_run(run_id: str) -> StoredRun:
    """A stored run: params, final metrics, tags, KPI report, cost, environment, artifacts."""
    c = get_client()
    return StoredRun(c, c.runs.get(run_id=run_id))


def search_runs(
    filter: str | None = None,
    *,
    order_by: list[str] | None = None,
    project: str | None = None,
    max_results: int = 10_000,
    include_deleted: bool = False,
) -> Any:
    """Runs matching ``filter`` as a pandas DataFrame: attributes, ``params.*``, ``metrics.*``, ``tags.*``."""
    from keel.tracking.frame import runs_frame

    project = project or current_project()
    if not project:
        raise InvalidInput("no project to search", hint="call keel.init(project='...') or pass project=")
    c = get_client()
    items: list[Any] = []
    token = None
    while len(items) < max_results:
        page = c.runs.search(
            project=project,
            filter=filter,
            order_by=order_by,
            limit=min(1000, max_results - len(items)),
            page_token=token,
            include_deleted=include_deleted,
        )
        items.extend(page.items)
        token = page.next_token
        if token is None:
            break
    return runs_frame(items)


def autolog(*, disable: bool = False) -> None:
    """Log scikit-learn fits automatically: params, training score, fit time, the fitted model."""
    from keel.tracking.autolog import enable_sklearn

    enable_sklearn(start_run=start_run, active_run=active_run, disable=disable)


# -- models -----------------------------------------------------------------------------------------


def register_model(
    path: str | Path,
    name: str,
    *,
    project: str | None = None,
    run_id: str | None = None,
    description: str = "",
    client: Client | None = None,
) -> Any:
    """Register the package folder ``path`` (``keel model register``): verified, uploaded as one tree, recorded."""
    import keel.models
    from keel.artifact_service.paths import upload_path

    project = project or current_project()
    if not project:
        raise InvalidInput(
            "no project to register the model in", hint="call keel.init(project='...') or pass project="
        )
    folder = Path(path)
    keel.models.verify(folder)
    c = client or get_client()
    if not c.is_remote:  # one transaction and one syncfs for the whole folder
        from keel.artifact_service import ArtifactService

        put = c.backend.service(ArtifactService).put_path(project, folder)  # type: ignore[attr-defined]
    else:
        put = upload_path(
            folder,
            exists=lambda digests: c.artifacts.exists(project=project, digests=digests),
            upload=lambda chunks, tree: c.artifacts.upload(
                project=project, data=ByteStream(chunks), tree=tree
            ),
        )
    return c.models.register(
        project=project, name=name, package=put.digest, run_id=run_id, description=description
    )


def log_model(
    model: Any,
    name: str,
    *,
    input_example: Any = None,
    unsafe_pickle: bool = False,
    description: str = "",
    project: str | None = None,
    run_id: str | None = None,
    metrics: Mapping[str, float] | None = None,
    client: Client | None = None,
) -> Any:
    """Package ``model`` and register it as a new version of ``name`` (the active run's, if any)."""
    import tempfile

    import keel.models

    run = active_run()
    if run is not None and run_id is None:
        return run.log_model(model, name, input_example=input_example, unsafe_pickle=unsafe_pickle)
    with tempfile.TemporaryDirectory(prefix="keel-model-") as tmp:
        folder = Path(tmp, "package")
        keel.models.save(
            model, folder, input_example=input_example, unsafe_pickle=unsafe_pickle, metrics=metrics
        )
        return register_model(
            folder, name, project=project, run_id=run_id, description=description, client=client
        )


def fetch_model(ref: str, *, project: str | None = None, client: Client | None = None) -> Path:
    """The folder of registry version ``ref`` (``churn@production``), fetched and verified; cached by digest.

    ``keel.models.load`` calls this for a reference (entry point ``keel.model_sources``);
    the cached copy is used only while its manifest's file digests are the registry's.
    """
    import shutil
    import tempfile
    import uuid

    from keel.artifact_service.paths import download_tree
    from keel.models.manifest import read_manifest

    project = project or current_project()
    if not project:
        raise InvalidInput(
            f"no project to find {ref!r} in", hint="call keel.init(project='...') or pass project="
        )
    c = client or get_client()
    version = c.models.get(project=project, ref=ref)
    home = c.settings.home_path if c.settings else None
    root = (home / "cache" / "models") if home is not None else Path(tempfile.gettempdir(), "keel-models")
    folder = root / version.package_digest
    if folder.is_dir():
        try:
            if read_manifest(folder).model_dump(mode="json")["files"] == version.manifest["files"]:
                return folder
        except InvalidInput:
            pass
        shutil.rmtree(folder, ignore_errors=True)
    staging = root / f".{version.package_digest}.{uuid.uuid4().hex}"
    root.mkdir(parents=True, exist_ok=True)
    download_tree(
        version.package_digest, staging, download=lambda d: c.artifacts.download(project=project, digest=d)
    )
    try:
        staging.rename(folder)
    except OSError:  # another process fetched it first
        shutil.rmtree(staging, ignore_errors=True)
    return folder


# -- pipelines ------------------------------------------------------------------------------------


def run_pipeline(
    pipeline: Any,
    params: Mapping[str, Any] | None = None,
    *,
    project: str | None = None,
    jobs: int = 1,
    no_cache: bool = False,
    rerun: list[str] | tuple[str, ...] = (),
    lock: str | Path | None = None,
    client: Client | None = None,
) -> Any:
    """Run a ``@keel.pipeline`` (or ``"file.py:name"``) in the current project, as ``keel pipeline run`` does.

    Returns the :class:`keel.pipelines.run.PipelineResult` (``.value(step)``
    reads an output back). Raises InvalidInput for a bad pipeline or
    parameter (nothing recorded) and StepFailed (exit 1) naming a failed step.
    """
    from keel.pipelines.load import load_pipeline
    from keel.pipelines.run import run_pipeline as run

    c = client or get_client()
    name = project or current_project()
    if not name:
        raise InvalidInput("no project chosen", hint="keel.init(project=NAME) or the `project` setting")
    target = pipeline if isinstance(pipeline, str) else None
    pipe = load_pipeline(pipeline) if isinstance(pipeline, str) else pipeline
    return run(
        pipe,
        c,
        project=name,
        params=params,
        jobs=jobs,
        no_cache=no_cache,
        rerun=rerun,
        lock=lock,
        target=target,
    )
