"""``collect_garbage``: delete the objects no reference and no referenced tree reaches.

Roots are the digests of the reference table (the caller reads them, so this
module needs no database). A referenced tree keeps its entries alive. Objects
younger than the grace period are spared whatever their state: a put writes
its objects (or, finding one already stored, touches it) before it commits
the reference, so a gc running at the same time never deletes what a put is
about to reference, as long as the put takes less than the grace period.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Final

from keel.artifacts.store import ArtifactStore
from keel.artifacts.tree import decode_tree
from keel.core.errors import InvalidInput, KeelError

DEFAULT_GRACE_S: Final = 24 * 3600.0
_DIGEST: Final = re.compile(r"^[0-9a-f]{64}$")


@dataclass
class GcReport:
    """What a collection found and did."""

    live: int = 0
    spared: int = 0
    deleted: int = 0
    freed_bytes: int = 0
    dry_run: bool = False
    deleted_digests: list[str] = field(default_factory=list)


def _tree_entries(store: ArtifactStore, digest: str) -> list[str]:
    """The entry digests of root ``digest``; [] only when it is cleanly not a tree.

    "Not a tree" means its first bytes are not a manifest's, or its bytes
    (verified against the digest) do not parse as one: an ordinary file. Any
    other failure (a corrupt manifest, an unreachable store, a vanished object)
    means gc cannot know what the tree keeps alive, so it stops before
    deleting anything and names the tree.
    """
    try:
        if not store.is_tree(digest):
            return []
        data = store.read_bytes(digest, verify=True)
    except Exception as exc:
        raise _unreadable(digest, exc) from exc
    try:
        return [entry.digest for entry in decode_tree(data, digest)]
    except InvalidInput:
        return _named_digests(data)  # a manifest refused today, or bytes that merely start like one


def _named_digests(data: bytes) -> list[str]:
    """Every digest a manifest's entries name, read leniently: gc keeps alive what any manifest names,
    even one the tree rules now refuse (an entry under ``.keel/``), rather than delete its files."""
    try:
        doc = json.loads(data.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        return []
    raw = doc.get("entries") if isinstance(doc, dict) else None
    if not isinstance(raw, list):
        return []
    found = [e.get("digest") for e in raw if isinstance(e, dict)]
    return [d for d in found if isinstance(d, str) and _DIGEST.match(d)]


def _unreadable(digest: str, exc: Exception) -> KeelError:
    reason = exc.message if isinstance(exc, KeelError) else f"{exc.__class__.__name__}: {exc}"
    message = f"gc stopped, nothing deleted: cannot read referenced tree {digest}: {reason}"
    hint = "run `keel artifacts fsck`, restore the tree (e.g. pull it from a remote), then gc again"
    # the same kind of error (a corrupt tree stays CorruptObject, an outage RemoteUnavailable...)
    return type(exc)(message, hint=hint) if isinstance(exc, KeelError) else KeelError(message, hint=hint)


def reachable(store: ArtifactStore, roots: Iterable[str]) -> set[str]:
    """The roots plus every entry of every root that is a tree (roots not stored are skipped).

    Raises (naming the tree, before anything is deleted) if a root that looks
    like a tree cannot be read.
    """
    wanted = sorted(set(roots))
    present = store.exists(wanted)
    live = set(wanted)
    for digest in sorted(present):
        live.update(_tree_entries(store, digest))
    return live


def collect_garbage(
    store: ArtifactStore,
    roots: Iterable[str],
    *,
    grace_s: float = DEFAULT_GRACE_S,
    dry_run: bool = False,
) -> GcReport:
    """Delete unreachable objects older than ``grace_s`` seconds (or only report them, with ``dry_run``)."""
    if grace_s < 0:
        raise InvalidInput(f"grace period must not be negative, got {grace_s}s")
    live = reachable(store, roots)
    cutoff = time.time() - grace_s
    report = GcReport(dry_run=dry_run)
    doomed: list[str] = []
    for obj in store.iter_objects():
        if obj.digest in live:
            report.live += 1
        elif obj.mtime > cutoff:
            report.spared += 1
        else:
            doomed.append(obj.digest)
            report.freed_bytes += obj.size
    report.deleted_digests = sorted(doomed)
    if dry_run:
        report.deleted = len(doomed)
        return report
    report.deleted = store.delete(doomed) if doomed else 0
    store.backend.clean_temp(max(grace_s, 3600.0))
    return report
