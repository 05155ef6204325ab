"""Keel's web UI: server-rendered pages over the same operations as the REST API.

A short map:

- :mod:`keel.ui.web` -- the ASGI app and :class:`~keel.ui.web.UIMiddleware`, which
  ``keel server`` mounts so ``/`` and ``/ui/...`` are pages and everything else
  stays the REST API; sign-in required, CSRF checked, KeelError -> error page.
- :mod:`keel.ui.session` -- the session cookie (the API token, HttpOnly) and CSRF tokens.
- :mod:`keel.ui.calls` -- the only road to data: operations by name, run as the
  signed-in caller through :func:`keel.core.operations.invoke`.
- the charts draw ``runs.metric_series`` (``keel.tracking.series_ops``): a long
  metric reaches the browser as ~2,000 points, its NaN/inf gaps kept.
- ``pages_*`` -- the pages, each linking its JSON twin (the REST route).
- ``templates/`` (Jinja2) and ``static/`` (htmx, uPlot, Keel's CSS/JS; licences in
  ``static/LICENSES.md``), shipped inside the package: no CDN, no Node build step.
"""
