"""``keel.data``: version data from Python, the calls ``keel data ...`` makes.

>>> v = keel.data.add("data/customers.parquet", name="churn-train")
>>> df = keel.data.get("churn-train@latest").to_pandas()

The work that touches the user's files (hashing into the artifact store,
profiling, Parquet conversion, checkout, status) runs here, next to the
files; the metadata goes through the client's ``data`` service (the
capability :mod:`keel.datasets`), so the same calls work on a local
workspace and against a server. One job per module:

- :mod:`keel.data.addresses`: which client, project and version an address means;
- :mod:`keel.data.staging`: the store bytes go through, local or staged in
  front of a server, chosen once per client;
- :mod:`keel.data.versioning`: ``add`` and ``status`` (paths on disk against their datasets);
- :mod:`keel.data.restore` and :mod:`keel.data.materialise`: ``checkout``, files onto disk;
- :mod:`keel.data.remotes`: ``push`` and ``pull`` to named remotes, with each
  version's record (:mod:`keel.data.records`), so a git clone gets the versions;
- :mod:`keel.data.tracked` and :mod:`keel.data.gitignore`: the workspace's
  pointer files (``status_all``) and the ``.gitignore`` entries beside the data;
- :mod:`keel.data.catalog`: ``get``, ``ls``, ``show``, ``log``, ``diff``, ``tag``, ``rm``, ``lineage``;
- :mod:`keel.data.handles`: what they return (:class:`Added`, :class:`Status`,
  :class:`CheckedOut`, :class:`VersionHandle`).
"""

from __future__ import annotations

from keel.data.catalog import diff, get, lineage, log, ls, rm, show, tag
from keel.data.handles import Added, CheckedOut, Status, VersionHandle
from keel.data.remotes import Transferred, pull, push
from keel.data.restore import checkout
from keel.data.tracked import Tracked, status_all
from keel.data.versioning import add, status

__all__ = [
    "Added",
    "CheckedOut",
    "Status",
    "Tracked",
    "Transferred",
    "VersionHandle",
    "add",
    "checkout",
    "diff",
    "get",
    "lineage",
    "log",
    "ls",
    "pull",
    "push",
    "rm",
    "show",
    "status",
    "status_all",
    "tag",
]
