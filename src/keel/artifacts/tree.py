"""Trees: a folder as one manifest object, canonical JSON, whose digest names the whole folder.

The manifest is UTF-8 JSON with no spaces, written by hand so its bytes are
fixed for given entries (the digest depends on nothing else)::

    {"keel_tree":1,"entries":[{"digest":"…","mode":420,"path":"a/b.png","size":3},…]}

Entries are sorted by path (Unicode code points) and each entry's keys are
sorted. ``mode`` is 0o644 or 0o755 (only the owner's execute bit is kept, as
git does), so the same files give the same digest on every machine. The fixed
prefix lets a reader tell a tree from other bytes by its first few bytes.

Paths are relative, POSIX, normalised: no empty, ``.`` or ``..`` part, no
leading ``/``, no backslash, no NUL, and no ``.keel`` part (a checkout must
never write into a workspace's own folder: its database, config and
objects). A manifest that breaks any of that is refused on write (here, and
by the REST upload, with a 422 naming the entry) as well as on read, so a
tree that could never be checked out is never stored as one, and a hostile
tree cannot write outside the folder it is checked out into.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Final

from keel.artifacts.digest import check_digest
from keel.artifacts.model import TreeEntry
from keel.core.errors import InvalidInput

TREE_PREFIX: Final = b'{"keel_tree":1,"entries":['
FILE_MODE: Final = 0o644
EXEC_MODE: Final = 0o755
#: A workspace's own folder: no tree entry may lie under it (compared without case).
WORKSPACE_DIR: Final = ".keel"


def normal_mode(st_mode: int) -> int:
    """0o755 if the owner may execute the file, else 0o644."""
    return EXEC_MODE if st_mode & 0o100 else FILE_MODE


def check_path(path: str) -> str:
    """``path`` if it is a safe relative POSIX path; InvalidInput naming it otherwise."""
    if not path or path.startswith("/") or "\\" in path or "\x00" in path:
        raise InvalidInput(f"tree entry path {path!r} is not a relative POSIX path")
    if len(path) >= 2 and path[1] == ":":
        raise InvalidInput(f"tree entry path {path!r} is absolute")
    if not path.isascii():
        try:
            path.encode("utf-8")
        except UnicodeEncodeError:
            raise InvalidInput(f"tree entry path {path!r} is not valid Unicode (a lone surrogate)") from None
    parts = path.split("/")
    for part in parts:
        if part in ("", ".", ".."):
            raise InvalidInput(f"tree entry path {path!r} has a {part or 'empty'!r} part; '..' is refused")
    if WORKSPACE_DIR in path.lower() and any(part.lower() == WORKSPACE_DIR for part in parts):
        raise InvalidInput(
            f"tree entry path {path!r} is under {WORKSPACE_DIR}/, a Keel workspace's own folder; refused"
        )
    return path


def encode_tree(entries: Sequence[tuple[str, str, int, int]]) -> bytes:
    """The manifest bytes for ``(path, digest, size, mode)`` entries (sorted here, checked here)."""
    ordered = sorted(entries)
    parts = []
    last = None
    for path, digest, size, mode in ordered:
        if path == last:
            raise InvalidInput(f"tree entry path {path!r} appears twice")
        last = path
        check_path(path)
        # json.dumps(ensure_ascii=False) escapes only '"', '\\' and control characters: skip it when none occur
        quoted = f'"{path}"' if path.isprintable() and '"' not in path and "\\" not in path else None
        if quoted is None:
            quoted = json.dumps(path, ensure_ascii=False)
        parts.append(f'{{"digest":"{digest}","mode":{int(mode)},"path":{quoted},"size":{int(size)}}}')
    return TREE_PREFIX + ",".join(parts).encode("utf-8") + b"]}"


def validate_entries(entries: Sequence[tuple[str, str, int, int]]) -> None:
    """Check every path, digest, size and mode of entries that came from outside."""
    for path, digest, size, mode in entries:
        check_path(path)
        check_digest(digest)
        if size < 0:
            raise InvalidInput(f"tree entry {path!r} has a negative size")
        if mode not in (FILE_MODE, EXEC_MODE):
            raise InvalidInput(f"tree entry {path!r} has mode {mode:o}; expected 644 or 755")


def looks_like_tree(head: bytes) -> bool:
    """Whether bytes starting with ``head`` claim to be a tree manifest."""
    return head.startswith(TREE_PREFIX)


def decode_tree(data: bytes, digest: str = "") -> list[TreeEntry]:
    """Parse and check a manifest; InvalidInput if the bytes are not a valid tree."""
    what = f"object {digest}" if digest else "manifest"
    if not looks_like_tree(data):
        raise InvalidInput(f"{what} is not a tree", hint="`keel artifacts get` fetches a single file")
    try:
        doc = json.loads(data.decode("utf-8"))
        raw = doc["entries"]
        if set(doc) != {"keel_tree", "entries"} or not isinstance(raw, list):
            raise ValueError("unexpected keys")
        entries = [
            TreeEntry(path=e["path"], digest=e["digest"], size=e["size"], mode=e["mode"])
            for e in raw
            if isinstance(e, dict) and set(e) == {"digest", "mode", "path", "size"}
        ]
        if len(entries) != len(raw):
            raise ValueError("malformed entry")
    except (ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"{what} is not a valid tree manifest: {exc}") from None
    as_tuples = [(e.path, e.digest, e.size, e.mode) for e in entries]
    validate_entries(as_tuples)
    if encode_tree(as_tuples) != data:
        raise InvalidInput(f"{what} is not a canonical tree manifest (order or spacing differs)")
    return entries
