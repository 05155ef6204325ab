"""The prediction log: what each deployment answered, and the ground truth that arrived later.

A capability of its own (tables on its own Alembic branch, ``0010_predictions``;
registered as ``predictions`` in ``keel.capabilities``). The map:

- **Writing** (the model server, :mod:`keel.serving`):
  ``PredictionLog(ctx, deployment, flush_s=2.0, segment_rows=10_000, sensitive=())``
  from :mod:`keel.predictions.writer`; ``log.start()``, then
  ``log.record(Logged(request_id, at, model_version, latency_ms, columns, tensor, outputs))``
  per answered request (no I/O on the caller's thread), ``log.close()`` at
  shutdown (flushes). Each flush writes one Parquet segment per input shape
  to the artifact store (owned by ``deployment:<id>`` for gc) and one index
  row per predicted row. A request of n > 1 rows logs rows ``id:0 .. id:n-1``.
- **Labels**: ``client.predictions.label(project=, deployment=, labels=[Label(request_id=, value=)])``,
  REST ``POST /api/v1/projects/{project}/deployments/{deployment}/labels``,
  CLI ``keel predictions label DEPLOYMENT --file labels.csv``. All or nothing;
  unknown ids (NotFound), repeated ids (InvalidInput), ids labeled before
  (Conflict). See :mod:`keel.predictions.labels`.
- **Reading** (monitoring computes live KPIs and drift from this):
  ``keel.predictions.query.window(ctx, deployment, since=None, until=None, labeled_only=False)``
  returns one ``pyarrow.Table``, oldest first, with columns ``request_id``
  (str), ``at`` (timestamp[us, UTC]), ``model_version`` (int32),
  ``latency_ms`` (float64), ``input.<column>`` per input column (or
  ``input``, a list per row, for tensor models; sensitive columns hold a
  BLAKE2b digest), ``output`` (the model's answer per row; a list for
  multi-output models), ``label`` (null where none arrived) and ``labeled``
  (bool). It checks no permission: call it from an operation that has
  authorized the caller on the deployment's project.
  ``keel.predictions.owner.check_in_project(ctx, project, deployment)``
  does that lookup (NotFound when the deployment is not the project's).
  For the SDK and REST: ``client.predictions.ls(project=, deployment=, since=, until=, labeled_only=, limit=)``
  (``GET .../deployments/{deployment}/predictions``), rows as :class:`~keel.predictions.schemas.Prediction`.
"""
