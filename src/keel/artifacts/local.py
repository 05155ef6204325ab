"""A folder of objects, ``<root>/ab/cdef...``: the default store, under ``.keel/objects``.

Each write goes to ``<root>/.tmp/<owner>-<unique>`` first and is renamed into
place only when complete, so a crash or a full disk never leaves a half object
under a real name; a killed writer's temporaries are removed by the next put
or fsck (:mod:`keel.artifacts.tempfiles`). Nothing is fsynced per file; :meth:`LocalObjectStore.sync` issues one
``syncfs`` for the whole batch, which callers run before committing the
metadata that references the objects. Objects are made read-only, since
checkouts may share their blocks (reflinks).

A large file is copied by the kernel (``copy_file_range``/``sendfile``) in a
second thread while this one hashes it, so hashing and copying overlap on
two cores; if the object turns out to exist already the copy is dropped.
"""

from __future__ import annotations

import contextlib
import errno
import io
import os
import shutil
import threading
import time
import uuid
import weakref
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, BinaryIO, Final

from keel.artifacts.backend import ObjectBackend, StoredObject
from keel.artifacts.digest import CHUNK, hash_bytes, new_hasher
from keel.artifacts.files import hash_reader
from keel.artifacts.model import ObjectInfo
from keel.artifacts.syncfs import syncfs
from keel.artifacts.tempfiles import ORPHAN_AFTER_S, TempOwner, clean_temp
from keel.core.errors import ConfigError, Conflict, CorruptObject, NotFound, StorageFull

#: Files up to this size are read into memory once (hash, then write only if new).
SMALL_FILE: Final = 4 << 20
#: A stored object older than this is touched when a put finds it, so gc's grace period covers the put.
FRESHEN_AFTER_S: Final = 600.0
_SPACE_ERRORS: Final = {errno.ENOSPC, errno.EDQUOT}
#: Where corrupt objects are set aside (``<root>/.corrupt/<digest>``) once a verified read finds them.
CORRUPT_DIR: Final = ".corrupt"


def _is_shard(name: str) -> bool:
    return len(name) == 2 and all(c in "0123456789abcdef" for c in name)


def _unchanged(before: os.stat_result, *later: os.stat_result) -> bool:
    """Whether a file's stat shows no write, truncation or replacement since ``before``."""
    key = (before.st_dev, before.st_ino, before.st_size, before.st_mtime_ns, before.st_ctime_ns)
    return all((s.st_dev, s.st_ino, s.st_size, s.st_mtime_ns, s.st_ctime_ns) == key for s in later)


class LocalObjectStore(ObjectBackend):
    """Objects as files in a local folder."""

    def __init__(self, root: Path) -> None:
        self.root = root.expanduser().resolve()
        self.url = str(self.root)
        self._root = str(self.root)  # string paths: pathlib costs more than the syscalls on hot paths
        self.tmp = self.root / ".tmp"
        self.tmp.mkdir(parents=True, exist_ok=True)
        self._owner = TempOwner(str(self.tmp))
        weakref.finalize(self, self._owner.release)
        self._dirty = False
        self._shards: set[str] = set()
        self._lock = threading.Lock()

    # -- paths -------------------------------------------------------------
    def path(self, digest: str) -> Path:
        return Path(self._spath(digest))

    def _spath(self, digest: str) -> str:
        return f"{self._root}/{digest[:2]}/{digest[2:]}"

    def local_path(self, digest: str) -> Path | None:
        return self.path(digest)

    def _temp(self) -> Path:
        return Path(self._stemp())

    def _stemp(self) -> str:
        return f"{self._owner.prefix()}{threading.get_ident()}-{uuid.uuid4().hex}"

    def _space_error(self, exc: OSError) -> Exception:
        if exc.errno in _SPACE_ERRORS:
            return StorageFull(
                f"no space left in the artifact store {self.root} while writing an object; nothing was kept",
                hint="free some space (`keel artifacts gc` removes unreferenced objects) and try again",
            )
        return exc

    def _install(self, temp: Path | str, digest: str, *, chmod: bool = True) -> bool:
        """Rename a complete temporary file into place; False (and temp removed) if already stored."""
        dest = self._spath(digest)
        shard = digest[:2]
        if shard not in self._shards:
            os.makedirs(f"{self._root}/{shard}", exist_ok=True)
            self._shards.add(shard)
        try:
            st = os.stat(dest)
        except FileNotFoundError:
            st = None
        if (
            st is None or st.st_size != os.stat(temp).st_size
        ):  # absent, or stored with the wrong size: corrupt
            if chmod:
                os.chmod(temp, 0o444)
            os.replace(temp, dest)
            self._dirty = True
            return True
        os.unlink(temp)
        self._freshen_stat(dest, st.st_mtime)
        return False

    def _freshen_stat(self, path: Path | str, mtime: float) -> None:
        if time.time() - mtime > FRESHEN_AFTER_S:
            with contextlib.suppress(OSError):
                os.utime(path)

    # -- writes ------------------------------------------------------------
    def write_bytes(self, data: bytes, digest: str | None = None) -> tuple[ObjectInfo, bool]:
        digest = digest or hash_bytes(data)
        info = ObjectInfo(digest=digest, size=len(data))
        dest = self._spath(digest)
        try:
            st = os.stat(dest)
        except FileNotFoundError:
            pass
        else:
            if st.st_size == len(data):  # a stored object of another size is corrupt: replace it
                self._freshen_stat(dest, st.st_mtime)
                return info, False
        temp = self._stemp()
        try:
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o444)
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view) :]
            finally:
                os.close(fd)
        except OSError as exc:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp)
            raise self._space_error(exc) from exc
        return info, self._install(temp, digest, chmod=False)

    def write_stream(self, chunks: Iterable[bytes], expected: str | None = None) -> tuple[ObjectInfo, bool]:
        hasher = new_hasher()
        size = 0
        temp = self._temp()
        try:
            with open(temp, "wb") as out:
                for chunk in chunks:
                    hasher.update(chunk)
                    out.write(chunk)
                    size += len(chunk)
        except BaseException as exc:
            temp.unlink(missing_ok=True)
            if isinstance(exc, OSError):
                raise self._space_error(exc) from exc
            raise
        digest = str(hasher.hexdigest())
        if expected is not None and digest != expected:
            temp.unlink(missing_ok=True)
            raise CorruptObject(f"object {expected} arrived with bytes that hash to {digest}; nothing kept")
        return ObjectInfo(digest=digest, size=size), self._install(temp, digest)

    def write_file(self, path: Path) -> tuple[ObjectInfo, bool]:
        with open(path, "rb") as src:
            before = os.fstat(src.fileno())
            if before.st_size <= SMALL_FILE:
                data = src.read()  # one handle, one read: the digest is that of the bytes stored
                return self.write_bytes(data)
            return self._write_large(src, path, before)

    def _write_large(
        self, src: io.BufferedReader, path: Path, before: os.stat_result
    ) -> tuple[ObjectInfo, bool]:
        """Hash here while the kernel copies in another thread; both read the same page cache.

        The copy reads the file through its own handle, so a file rewritten
        meanwhile could give a copy whose bytes differ from the ones hashed:
        the file's stat before and after (size, mtime and ctime in ns, inode)
        must agree, or nothing is kept and Conflict names the file.
        """
        temp = self._temp()
        failure: list[BaseException] = []

        def copy() -> None:
            try:
                shutil.copyfile(path, temp)
            except BaseException as exc:
                failure.append(exc)

        copier = threading.Thread(target=copy, name="keel-copy", daemon=True)
        copier.start()
        hasher = new_hasher()
        size = 0
        buffer = bytearray(CHUNK * 4)
        view = memoryview(buffer)
        try:
            while True:
                n = src.readinto(buffer)
                if not n:
                    break
                hasher.update(view[:n])
                size += n
        finally:
            copier.join()
        if failure:
            temp.unlink(missing_ok=True)
            exc = failure[0]
            if isinstance(exc, OSError):
                raise self._space_error(exc) from exc
            raise exc
        try:
            after, now = os.fstat(src.fileno()), os.stat(path)
        except FileNotFoundError:
            now = None
        if now is None or not _unchanged(before, after, now) or os.stat(temp).st_size != size:
            temp.unlink(missing_ok=True)
            raise Conflict(
                f"{path} changed while it was being stored; nothing was kept",
                hint="put it again once nothing is writing to it",
            )
        digest = str(hasher.hexdigest())
        return ObjectInfo(digest=digest, size=size), self._install(temp, digest)

    # -- reads -------------------------------------------------------------
    def exists(self, digests: list[str]) -> set[str]:
        exists = os.path.exists
        return {d for d in digests if exists(f"{self._root}/{d[:2]}/{d[2:]}")}

    def stat_many(self, digests: list[str]) -> dict[str, os.stat_result]:
        """``os.stat`` of each stored object among ``digests``."""
        found = {}
        for digest in digests:
            try:
                found[digest] = os.stat(f"{self._root}/{digest[:2]}/{digest[2:]}")
            except FileNotFoundError:
                continue
        return found

    def exists_and_freshen(self, digests: list[str]) -> set[str]:
        """``exists`` and ``freshen`` in one stat per object."""
        found = self.stat_many(digests)
        cutoff = time.time() - FRESHEN_AFTER_S
        for digest, st in found.items():
            if st.st_mtime < cutoff:
                with contextlib.suppress(OSError):
                    os.utime(self._spath(digest))
        return set(found)

    def open(self, digest: str) -> BinaryIO:
        try:
            return open(self.path(digest), "rb")
        except FileNotFoundError:
            raise NotFound(f"no object {digest} in {self.root}") from None

    def size(self, digest: str) -> int:
        try:
            return os.stat(self.path(digest)).st_size
        except FileNotFoundError:
            raise NotFound(f"no object {digest} in {self.root}") from None

    def iter_objects(self) -> Iterator[StoredObject]:
        with os.scandir(self.root) as shards:
            for shard in shards:
                if not (_is_shard(shard.name) and shard.is_dir(follow_symlinks=False)):
                    continue
                with os.scandir(shard.path) as entries:
                    for entry in entries:
                        if len(entry.name) != 62:
                            continue
                        st = entry.stat(follow_symlinks=False)
                        yield StoredObject(shard.name + entry.name, st.st_size, st.st_mtime)

    # -- maintenance -------------------------------------------------------
    def epoch(self) -> str:
        """The store's deletion epoch (``<root>/.epoch``), created on first use."""
        path = f"{self._root}/.epoch"
        try:
            with open(path, encoding="ascii") as handle:
                return handle.read().strip()
        except FileNotFoundError:
            return self._new_epoch(only_if_missing=True)

    def _new_epoch(self, *, only_if_missing: bool = False) -> str:
        path = f"{self._root}/.epoch"
        token = uuid.uuid4().hex
        temp = self._stemp()
        with open(temp, "w", encoding="ascii") as handle:
            handle.write(token)
        if only_if_missing:
            try:
                os.link(temp, path)  # atomic create-if-absent: a racing process keeps its own token
            except FileExistsError:
                os.unlink(temp)
                return self.epoch()
            os.unlink(temp)
            return token
        os.replace(temp, path)
        return token

    def delete(self, digests: list[str]) -> int:
        if digests:
            self._new_epoch()  # before any unlink: caches must stop trusting old sightings
        removed = 0
        for digest in digests:
            try:
                os.unlink(self.path(digest))
                removed += 1
            except FileNotFoundError:
                continue
        return removed

    def freshen(self, digests: list[str]) -> None:
        self.exists_and_freshen(digests)

    def quarantine(self, digest: str) -> bool:
        path = self._spath(digest)
        try:
            with open(path, "rb") as handle:
                intact = hash_reader(handle) == digest
        except FileNotFoundError:
            return False
        if intact:
            return False
        os.makedirs(f"{self._root}/{CORRUPT_DIR}", exist_ok=True)
        self._new_epoch()  # stat caches stop trusting that the object is here
        try:
            os.replace(path, f"{self._root}/{CORRUPT_DIR}/{digest}")
        except FileNotFoundError:
            return False
        return True

    def quarantined(self, digests: list[str]) -> set[str]:
        exists = os.path.exists
        return {
            d for d in digests if exists(f"{self._root}/{CORRUPT_DIR}/{d}") and not exists(self._spath(d))
        }

    def forget_repaired(self) -> int:
        """Remove set-aside copies of objects that are stored (intact) again; returns how many."""
        removed = 0
        with contextlib.suppress(FileNotFoundError), os.scandir(f"{self._root}/{CORRUPT_DIR}") as entries:
            for entry in entries:
                if os.path.exists(self._spath(entry.name)):
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(entry.path)
                        removed += 1
        return removed

    def clean_temp(self, older_than_s: float = ORPHAN_AFTER_S) -> int:
        """Remove temporaries no live writer owns (see :mod:`keel.artifacts.tempfiles`); returns how many."""
        return clean_temp(str(self.tmp), own=self._owner, older_than_s=older_than_s)

    def sync(self) -> None:
        # The lock is held across the flush: a caller that finds nothing dirty returns only after
        # any flush already under way (which covers its writes) has finished.
        with self._lock:
            if not self._dirty:
                return
            self._dirty = False
            syncfs(self.root)


def open_local(url: str, options: dict[str, Any], name: str | None = None) -> LocalObjectStore:
    """The ``file://`` backend (entry point ``keel.artifact_backends:file``): a folder of objects.

    Raises ConfigError if remote options are given, which mean nothing for a folder.
    """
    path = url[len("file://") :] if url.startswith("file://") else url
    if options:
        raise ConfigError(f"options {sorted(options)} do not apply to the local folder {path}")
    return LocalObjectStore(Path(path))
