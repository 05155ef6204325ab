"""The model server (L3): one deployment over HTTP, in the protocols its clients already speak.

- :mod:`keel.serving.app` is the Starlette app: Open Inference Protocol v2
  (``/v2/...``, as KServe, Triton and MLServer speak it) and MLflow's scoring
  protocol (``/invocations``, ``/ping``, ``/health``), each with its own error body;
- :mod:`keel.serving.tensors` and :mod:`keel.serving.frames` turn each
  protocol's body into checked columns (:mod:`keel.serving.inputs`), which the
  model gets as one array when it takes one (no pandas on that path);
- :mod:`keel.serving.loader` fetches a version's package, verifies every file's
  hash and loads it (pickles only when the deployment opts in);
- :mod:`keel.serving.guard` decides who may call: a predict token for the
  deployment, or an editor or admin of its project; viewers read status only;
- :mod:`keel.serving.follow` watches the alias and swaps versions atomically;
- :mod:`keel.serving.run` starts uvicorn (``keel serve NAME``).
"""
