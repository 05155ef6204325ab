"""Datasets (L2): datasets of tables and of files, immutable versions, profiles, diffs.

The map:

- :mod:`keel.datasets.service` (:class:`~keel.datasets.service.DataService`):
  the operations (add a version, ls, log, show, tag, diff, lineage, rm),
  exposed through REST and both SDK backends as ``client.data``;
- :mod:`keel.datasets.build`: a path on disk -> objects in the artifact store
  plus schema, profile (``keel.stats``), Parquet copy and folder summary;
- :mod:`keel.datasets.diff` / :mod:`keel.datasets.rowdiff`: version diffs,
  keyed row diffs in bounded memory; :mod:`keel.datasets.pointer`:
  ``<path>.keel`` files; :mod:`keel.datasets.heads`: the latest version read
  straight from a workspace's SQLite file.

The public calls ``keel.data.add(...)``, ``keel.data.get("churn-train@latest")``
and friends need a client (local or remote), so they live one layer up, in the
SDK package :mod:`keel.data`. Nothing here imports it: the capability and the
namespace have different homes, and every import points downward.
"""
