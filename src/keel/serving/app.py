"""The model server's Starlette app: OIP v2 and MLflow scoring routes over one deployment.

Routes are written here rather than derived from operations: these paths,
bodies and error shapes are fixed by outside protocols, and the request path
is kept to a body read, a JSON parse, a signature check and ``predict``
(no pydantic model per request, no database read once a token is known).
Health routes are public; every other route asks :class:`Guard`.
"""

from __future__ import annotations

import hashlib
import logging
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Final

import numpy as np
from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from keel.context import Context
from keel.core.errors import InvalidInput, KeelError, NotFound, PayloadTooLarge
from keel.core.version import __version__
from keel.predictions.segment import Logged
from keel.predictions.writer import PredictionLog
from keel.registry.deployment_schemas import Deployment
from keel.registry.deployments import locate
from keel.serving import frames, inputs, tensors
from keel.serving.batching import Batcher
from keel.serving.binary import unpack
from keel.serving.follow import Follower, Live, refresh
from keel.serving.guard import PREDICT, READ, Guard
from keel.serving.jsonio import dumps, loads
from keel.serving.loader import Served
from keel.serving.metrics import Metrics

log = logging.getLogger("keel.serving")
JSON: Final = "application/json"
MLFLOW_CODES: Final = {401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "RESOURCE_DOES_NOT_EXIST"}


class Unready(Exception):
    """Nothing to answer with (the followed alias holds no loadable version): 503."""


class Server:
    """The state one worker serves from: the deployment, its loaded versions, its guard and metrics."""

    def __init__(
        self,
        ctx: Context,
        name: str,
        *,
        poll_s: float = 2.0,
        max_body: int = 16 << 20,
        log: bool = True,
        batch_max: int | None = None,
        batch_wait_ms: float | None = None,
    ) -> None:
        from keel.access.wiring import enable_auth

        self.ctx = ctx
        self.guard_auth = enable_auth(ctx)
        deployment, _ = locate(ctx, name)
        self.live = Live(deployment=deployment)
        self.metrics = Metrics(name)
        self.guard = Guard(self.guard_auth, name, deployment.project)
        self.poll_s = poll_s
        self.max_body = max_body
        self.follower: Follower | None = None
        self.log = prediction_log(ctx, deployment) if log else None
        if self.log is not None:
            written = self.log
            self.metrics.logged = lambda: (written.written, written.dropped)
        settings = deployment.settings
        self.batcher = Batcher(
            int(batch_max if batch_max is not None else settings.get("batch_max", 1)),
            float(batch_wait_ms if batch_wait_ms is not None else settings.get("batch_wait_ms", 2.0)) / 1000,
            observe=self.metrics.observe_batch,
        )

    # --- choosing who answers -------------------------------------------------------------

    def pick(self, model: str, version: str | None, request_id: str) -> Served:
        """The version that answers: the one named, else the canary for its share of ids, else the target."""
        live = self.live
        if model != live.deployment.model:
            raise NotFound(f"no model named {model!r} here; this server serves {live.deployment.model!r}")
        target = live.target
        if version is not None:
            for served in live.served():
                if str(served.version) == version:
                    return served
            raise NotFound(f"model {model!r} has no version {version} served here")
        if target is None:
            raise Unready(live.problem or "no version is loaded yet")
        canary, share = live.canary, live.deployment.canary_percent
        if canary is not None and share and _bucket(request_id) < share:
            return canary
        return target

    def shadow(self, batch: inputs.Batch, request_id: str) -> BackgroundTask | None:
        """A task that runs the shadow version on the same input after the answer is sent."""
        shadow = self.live.shadow
        if shadow is None:
            return None

        def run() -> None:
            try:
                out = np.asarray(shadow.predict(batch))
                log.info("shadow v%d answered %s: %s", shadow.version, request_id, out.tolist()[:8])
            except Exception as exc:
                log.warning("shadow v%d failed on %s: %s", shadow.version, request_id, exc)

        return BackgroundTask(run)

    async def body(self, request: Request) -> bytes:
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body:
            raise PayloadTooLarge(f"the body has {declared} bytes; this server takes at most {self.max_body}")
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > self.max_body:
                raise PayloadTooLarge(f"the body is over {self.max_body} bytes, the most this server takes")
            chunks.append(chunk)
        request.state.body_read = True
        return b"".join(chunks)

    # --- Open Inference Protocol v2 -------------------------------------------------------

    async def infer(self, request: Request) -> Response:
        started = time.perf_counter()
        request_id = request.headers.get("x-request-id") or ""
        try:
            self.guard.check(request.headers.get("authorization"), PREDICT)
            name, version = request.path_params["name"], request.path_params.get("version")
            self.pick(name, version, request_id or "-")  # unknown model or version: before the body
            signature = self._signature()
            raw = await self.body(request)
            binary = request.headers.get("inference-header-content-length")
            batch, body_id, _ = tensors.decode_request(
                unpack(raw, binary) if binary is not None else loads(raw),
                signature.inputs if signature else None,
            )
            request_id = body_id or request_id or uuid.uuid4().hex
            served = self.pick(name, version, request_id)
            checked = inputs.check(signature.inputs, batch) if signature else batch
            predictions = await self.batcher.predict(served, checked)
            self._record(request_id, served, checked, predictions, started)
            out = {
                "model_name": name,
                "model_version": str(served.version),
                "id": request_id,
                "parameters": {},
                "outputs": tensors.encode_outputs(predictions, signature.outputs if signature else None),
            }
            answer = Response(
                dumps(out),
                media_type=JSON,
                headers={"x-request-id": request_id},
                background=self.shadow(checked, request_id),
            )
            self.metrics.observe("infer", 200, time.perf_counter() - started, checked.rows)
            return answer
        except (KeelError, Unready, Exception) as exc:
            status, message = _status(exc)
            self.metrics.observe("infer", status, time.perf_counter() - started)
            return _reply({"error": message}, status, request_id, close=_unread(request))

    async def model_metadata(self, request: Request) -> Response:
        try:
            self.guard.check(request.headers.get("authorization"), READ)
            name, version = request.path_params["name"], request.path_params.get("version")
            if name != self.live.deployment.model:
                raise NotFound(
                    f"no model named {name!r} here; this server serves {self.live.deployment.model!r}"
                )
            if version is not None:
                self.pick(name, version, "-")
            signature = self._signature()
            body = {
                "name": name,
                "versions": [str(s.version) for s in self.live.served()],
                "platform": f"keel-{self._flavor()}",
                "inputs": tensors.metadata_tensors(signature.inputs if signature else None),
                "outputs": tensors.metadata_tensors(signature.outputs if signature else None, "predict"),
            }
            return _reply(body, 200, "")
        except (KeelError, Unready) as exc:
            status, message = _status(exc)
            return _reply({"error": message}, status, "")

    async def model_ready(self, request: Request) -> Response:
        try:
            self.guard.check(request.headers.get("authorization"), READ)
            self.pick(request.path_params["name"], request.path_params.get("version"), "-")
            return _reply({"name": request.path_params["name"], "ready": True}, 200, "")
        except (KeelError, Unready) as exc:
            status, message = _status(exc)
            return _reply({"error": message}, status, "")

    async def server_metadata(self, request: Request) -> Response:
        try:
            self.guard.check(request.headers.get("authorization"), READ)
        except KeelError as exc:
            return _reply({"error": exc.message}, exc.status, "")
        return _reply({"name": "keel", "version": __version__, "extensions": []}, 200, "")

    async def live_(self, request: Request) -> Response:
        return _reply({"live": True}, 200, "")

    async def ready(self, request: Request) -> Response:
        ok = self.live.target is not None
        return _reply({"ready": ok}, 200 if ok else 503, "")

    # --- MLflow scoring protocol ----------------------------------------------------------

    async def invocations(self, request: Request) -> Response:
        started = time.perf_counter()
        request_id = request.headers.get("x-request-id") or uuid.uuid4().hex
        try:
            self.guard.check(request.headers.get("authorization"), PREDICT)
            served = self.pick(self.live.deployment.model, None, request_id)
            signature = self._signature()
            kind = request.headers.get("content-type", JSON).split(";")[0].strip().lower()
            raw = await self.body(request)
            if kind == "text/csv":
                batch = frames.decode_csv(raw)
            elif kind in (JSON, "application/*", "*/*", ""):
                batch = frames.decode_json(loads(raw), signature.inputs if signature else None)
            else:
                raise InvalidInput(
                    f"content type {kind!r} is not accepted: send application/json or text/csv"
                )
            checked = inputs.check(signature.inputs, batch) if signature else batch
            predictions = await self.batcher.predict(served, checked)
            self._record(request_id, served, checked, predictions, started)
            answer = Response(
                dumps(
                    {"predictions": predictions if predictions.dtype.kind in "biuf" else predictions.tolist()}
                ),
                media_type=JSON,
                headers={"x-request-id": request_id},
                background=self.shadow(checked, request_id),
            )
            self.metrics.observe("invocations", 200, time.perf_counter() - started, checked.rows)
            return answer
        except (KeelError, Unready, Exception) as exc:
            status, message = _status(exc)
            self.metrics.observe("invocations", status, time.perf_counter() - started)
            code = MLFLOW_CODES.get(status, "BAD_REQUEST" if status < 500 else "INTERNAL_ERROR")
            if status == 503:
                code = "TEMPORARILY_UNAVAILABLE"
            return _reply(
                {"error_code": code, "message": message}, status, request_id, close=_unread(request)
            )

    async def ping(self, request: Request) -> Response:
        ok = self.live.target is not None
        return Response(b"\n", status_code=200 if ok else 503, media_type=JSON)

    async def metrics_(self, request: Request) -> Response:
        try:
            self.guard.check(request.headers.get("authorization"), READ)
        except KeelError as exc:
            return _reply({"error": exc.message}, exc.status, "")
        return Response(self.metrics.render(), media_type="text/plain; version=0.0.4")

    # --- helpers --------------------------------------------------------------------------

    def _record(
        self, request_id: str, served: Served, batch: inputs.Batch, outputs: np.ndarray, started: float
    ) -> None:
        """Hand the answered request to the prediction log (a list append; written off this path)."""
        if self.log is not None:
            self.log.record(
                Logged(
                    request_id=request_id,
                    at=time.time(),
                    model_version=served.version,
                    latency_ms=(time.perf_counter() - started) * 1000.0,
                    columns=batch.columns if batch.tensor is None else None,
                    tensor=batch.tensor,
                    outputs=outputs,
                )
            )

    def _signature(self) -> Any:
        target = self.live.target or next(iter(self.live.served()), None)
        return target.model.signature if target is not None else None

    def _flavor(self) -> str:
        target = self.live.target
        return target.model.manifest.flavor if target is not None else "none"

    def start(self) -> None:
        if self.log is not None:
            self.log.start()
        refresh(self.ctx, self.live, self.metrics, first=True)
        if self.poll_s > 0:
            self.follower = Follower(self.ctx, self.live, self.metrics, self.poll_s)
            self.follower.start()

    def stop(self) -> None:
        if self.follower is not None:
            self.follower.stop()
        if self.log is not None:
            self.log.close()


def _bucket(request_id: str) -> int:
    """0-99, fixed by the request id: the same id always goes to the same side of a canary split."""
    return int.from_bytes(hashlib.blake2b(request_id.encode(), digest_size=4).digest(), "big") % 100


def _status(exc: BaseException) -> tuple[int, str]:
    if isinstance(exc, KeelError):
        return exc.status, exc.message
    if isinstance(exc, Unready):
        return 503, str(exc)
    log.exception("the model failed on a request", exc_info=exc)
    return 500, f"the model failed: {type(exc).__name__}: {exc}"


def _unread(request: Request) -> bool:
    """Whether the request's body was left unread (refused before reading, or too large)."""
    return not getattr(request.state, "body_read", False)


def _reply(body: dict[str, Any], status: int, request_id: str, *, close: bool = False) -> Response:
    """A JSON answer; ``close`` ends the connection after it, for a request whose body was left unread.

    Why: a client on a kept-alive connection (Triton's) would otherwise have
    its unread body bytes taken as the start of its next request.
    """
    headers = {"x-request-id": request_id} if request_id else {}
    if close:
        headers["connection"] = "close"
    return Response(dumps(body), status_code=status, media_type=JSON, headers=headers)


#: Every route: (path, the Server method answering it, methods). Health routes are public.
ROUTES: Final[tuple[tuple[str, str, list[str]], ...]] = (
    ("/v2/health/live", "live_", ["GET"]),
    ("/v2/health/ready", "ready", ["GET"]),
    ("/v2", "server_metadata", ["GET"]),
    ("/v2/models/{name}", "model_metadata", ["GET"]),
    ("/v2/models/{name}/versions/{version}", "model_metadata", ["GET"]),
    ("/v2/models/{name}/ready", "model_ready", ["GET"]),
    ("/v2/models/{name}/versions/{version}/ready", "model_ready", ["GET"]),
    ("/v2/models/{name}/infer", "infer", ["POST"]),
    ("/v2/models/{name}/versions/{version}/infer", "infer", ["POST"]),
    ("/invocations", "invocations", ["POST"]),
    ("/ping", "ping", ["GET"]),
    ("/health", "ping", ["GET"]),
    ("/metrics", "metrics_", ["GET"]),
)


def prediction_log(ctx: Context, deployment: Deployment) -> PredictionLog | None:
    """The deployment's prediction log as its settings ask (``log: false`` turns it off).

    Settings read: ``log_flush_s`` (seconds between segments, 2), ``log_segment_rows``
    (rows that start a segment sooner, 10,000) and ``sensitive`` (input columns
    logged as a digest, not a value).
    """
    settings = deployment.settings
    if settings.get("log") is False:
        return None
    return PredictionLog(
        ctx,
        deployment.name,
        flush_s=float(settings.get("log_flush_s", 2.0)),
        segment_rows=int(settings.get("log_segment_rows", 10_000)),
        sensitive=[str(c) for c in settings.get("sensitive", [])],
    )


def create_app(
    ctx: Context,
    name: str,
    *,
    poll_s: float = 2.0,
    max_body: int = 16 << 20,
    log: bool = True,
    batch_max: int | None = None,
    batch_wait_ms: float | None = None,
) -> Starlette:
    """The app serving deployment ``name``; it loads the versions when it starts (NotFound for no such deployment).

    ``log=False`` turns the prediction log off whatever the deployment's settings say.
    ``batch_max`` rows (1: no merging) and ``batch_wait_ms`` set micro-batching;
    None takes the deployment's ``batch_max`` / ``batch_wait_ms`` settings (1 and 2 ms).
    """
    server = Server(
        ctx,
        name,
        poll_s=poll_s,
        max_body=max_body,
        log=log,
        batch_max=batch_max,
        batch_wait_ms=batch_wait_ms,
    )

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        server.start()
        yield
        server.stop()

    app = Starlette(
        routes=[Route(path, getattr(server, handler), methods=methods) for path, handler, methods in ROUTES],
        lifespan=lifespan,
    )
    app.state.server = server
    return app
