"""Objects behind any fsspec URL: ``s3://bucket/prefix`` (s3fs), ``gs://``, ``memory://``...

Layout is the same as a local store, ``<root>/ab/cdef...``. On object stores
(S3, GCS, Azure, memory) an upload becomes visible only when it completes, so
bytes whose digest is known go straight to their key and are discarded if
they do not hash to it; bytes whose digest is not known yet go to
``<root>/.tmp/<unique>`` and are moved into place. Other file systems always
take the temporary route.

Every failure of the underlying library becomes RemoteUnavailable naming the
store (by its remote name where it has one) and the reason, never a
credential. Missing libraries become MissingExtra ("install keel[s3]").

``freshen`` on S3 copies an old object onto itself (a server-side copy that
renews LastModified, up to S3's 5 GB single-copy limit), so gc's grace period
covers puts that reuse old objects; on other fsspec stores it is a no-op and
gc relies on its grace period alone.
"""

from __future__ import annotations

import contextlib
import os
import time
import uuid
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO, Final
from urllib.parse import urlsplit, urlunsplit

from keel.artifacts.backend import ObjectBackend, StoredObject, object_key
from keel.artifacts.digest import new_hasher
from keel.artifacts.files import file_chunks, hash_file, hash_reader
from keel.artifacts.model import ObjectInfo
from keel.core.errors import ConfigError, CorruptObject, KeelError, MissingExtra, NotFound, RemoteUnavailable

ATOMIC_PROTOCOLS: Final = frozenset({"s3", "s3a", "gs", "gcs", "abfs", "az", "memory"})
S3_OPTIONS: Final = frozenset({"endpoint_url", "region", "profile", "anon"})
#: Above this many digests, ``exists`` lists the store once instead of asking per key.
LIST_THRESHOLD: Final = 64
WORKERS: Final = 8


def redact(url: str) -> str:
    """``url`` without any user:password part."""
    parts = urlsplit(url)
    if parts.username or parts.password:
        host = parts.hostname or ""
        if parts.port:
            host += f":{parts.port}"
        return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))
    return url


def storage_options(protocol: str, options: dict[str, Any]) -> dict[str, Any]:
    """fsspec keyword arguments for a remote's options (checked for s3)."""
    if protocol not in ("s3", "s3a"):
        return dict(options)
    unknown = sorted(set(options) - S3_OPTIONS)
    if unknown:
        raise ConfigError(
            f"unknown option(s) for an s3 remote: {', '.join(unknown)}",
            hint="s3 remotes take endpoint_url, region, profile and anon; credentials come from the "
            "environment (AWS_ACCESS_KEY_ID...) or a profile, never from config.toml",
        )
    client: dict[str, Any] = {}
    out: dict[str, Any] = {
        "skip_instance_cache": True,
        "use_listings_cache": False,
        "config_kwargs": {"connect_timeout": 5, "read_timeout": 60, "retries": {"max_attempts": 2}},
    }
    if options.get("endpoint_url"):
        client["endpoint_url"] = str(options["endpoint_url"])
    if options.get("region"):
        client["region_name"] = str(options["region"])
    if options.get("profile"):
        out["profile"] = str(options["profile"])
    if "anon" in options:
        out["anon"] = str(options["anon"]).lower() in ("1", "true", "yes")
    if client:
        out["client_kwargs"] = client
    return out


def _mtime(info: dict[str, Any]) -> float:
    for key in ("LastModified", "mtime", "created", "last_modified"):
        value = info.get(key)
        if isinstance(value, datetime):
            return value.timestamp()
        if isinstance(value, int | float):
            return float(value)
    return 0.0


class FsspecBackend(ObjectBackend):
    """Objects in an fsspec file system."""

    def __init__(self, url: str, options: dict[str, Any], *, name: str | None = None) -> None:
        self.url = redact(url).rstrip("/")
        self.label = f"remote {name!r} ({self.url})" if name else self.url
        protocol = urlsplit(url).scheme
        if protocol in ("s3", "s3a"):
            try:
                import s3fs  # noqa: F401
            except ImportError:
                raise MissingExtra(
                    f"{self.url} needs s3fs, which is not installed",
                    hint="install keel[s3] (pip install 'keel[s3]')",
                ) from None
        import fsspec

        try:
            self.fs, root = fsspec.core.url_to_fs(url, **storage_options(protocol, options))
        except ImportError as exc:
            raise MissingExtra(f"{self.url} needs a library that is not installed: {exc}") from None
        except (ValueError, TypeError) as exc:
            raise ConfigError(f"cannot use {self.label}: {exc}") from None
        self.root = str(root).rstrip("/")
        self.atomic = protocol in ATOMIC_PROTOCOLS

    # -- helpers -----------------------------------------------------------
    def _key(self, digest: str) -> str:
        return f"{self.root}/{object_key(digest)}"

    def _fail(self, exc: BaseException, doing: str) -> KeelError:
        if isinstance(exc, KeelError):
            return exc
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        return RemoteUnavailable(
            f"{self.label} failed while {doing}: {exc.__class__.__name__}: {reason}"[:500],
            hint="check the remote's URL, endpoint_url and credentials (`keel remote ls`)",
        )

    # -- reads -------------------------------------------------------------
    def exists(self, digests: list[str]) -> set[str]:
        if len(digests) >= LIST_THRESHOLD:
            stored = {obj.digest for obj in self.iter_objects()}
            return {d for d in digests if d in stored}

        def check(digest: str) -> bool:
            return bool(self.fs.exists(self._key(digest)))

        try:
            with ThreadPoolExecutor(max_workers=WORKERS) as pool:
                flags = list(pool.map(check, digests))
        except Exception as exc:
            raise self._fail(exc, "checking which objects it has") from None
        return {d for d, ok in zip(digests, flags, strict=True) if ok}

    def open(self, digest: str) -> BinaryIO:
        try:
            return self.fs.open(self._key(digest), "rb")  # type: ignore[no-any-return]
        except FileNotFoundError:
            raise NotFound(f"no object {digest} in {self.label}") from None
        except Exception as exc:
            raise self._fail(exc, f"opening object {digest}") from None

    def size(self, digest: str) -> int:
        try:
            return int(self.fs.info(self._key(digest))["size"])
        except FileNotFoundError:
            raise NotFound(f"no object {digest} in {self.label}") from None
        except Exception as exc:
            raise self._fail(exc, f"reading the size of {digest}") from None

    def iter_objects(self) -> Iterator[StoredObject]:
        try:
            with contextlib.suppress(AttributeError):
                self.fs.invalidate_cache(self.root)
            found = self.fs.find(self.root, detail=True) if self.fs.exists(self.root) else {}
        except Exception as exc:
            raise self._fail(exc, "listing its objects") from None
        prefix = self.root + "/"
        for path, info in found.items():
            rel = str(path)[len(prefix) :] if str(path).startswith(prefix) else ""
            shard, _, rest = rel.partition("/")
            if len(shard) == 2 and len(rest) == 62 and "/" not in rest:
                yield StoredObject(shard + rest, int(info.get("size") or 0), _mtime(info))

    # -- writes ------------------------------------------------------------
    def write_stream(self, chunks: Iterable[bytes], expected: str | None = None) -> tuple[ObjectInfo, bool]:
        if expected is not None and self.exists_and_freshen([expected]):
            for _ in chunks:  # drain a streamed body the caller handed us
                pass
            return ObjectInfo(digest=expected, size=self.size(expected)), False
        direct = expected is not None and self.atomic
        target = self._key(expected) if direct and expected else f"{self.root}/.tmp/{uuid.uuid4().hex}"
        hasher = new_hasher()
        size = 0
        try:
            handle = self.fs.open(target, "wb")
        except Exception as exc:
            raise self._fail(exc, "starting an upload") from None
        ok = False
        try:
            for chunk in chunks:
                hasher.update(chunk)
                handle.write(chunk)
                size += len(chunk)
            digest = str(hasher.hexdigest())
            if expected is not None and digest != expected:
                raise CorruptObject(
                    f"object {expected} arrived with bytes that hash to {digest}; nothing kept"
                )
            ok = True
        except KeelError:
            raise
        except Exception as exc:
            raise self._fail(exc, "uploading an object") from None
        finally:
            if not ok:
                discard = getattr(handle, "discard", None)
                with contextlib.suppress(Exception):
                    discard() if discard is not None else handle.close()
                with contextlib.suppress(Exception):
                    self.fs.rm(target)
        try:
            handle.close()
            if target != self._key(digest):
                if self.exists_and_freshen([digest]):
                    self.fs.rm(target)
                    return ObjectInfo(digest=digest, size=size), False
                self.fs.mv(target, self._key(digest))
        except Exception as exc:
            with contextlib.suppress(Exception):
                self.fs.rm(target)
            raise self._fail(exc, "storing an object") from None
        return ObjectInfo(digest=digest, size=size), True

    def write_file(self, path: Path) -> tuple[ObjectInfo, bool]:
        """Hash the local file first (cheap), so the upload goes straight to its key or not at all."""
        digest = hash_file(path)
        if self.exists_and_freshen([digest]):
            return ObjectInfo(digest=digest, size=os.path.getsize(path)), False
        return self.write_stream(file_chunks(path), expected=digest)

    def exists_and_freshen(self, digests: list[str]) -> set[str]:
        """On S3, objects older than FRESHEN_AFTER_S are copied onto themselves (new LastModified),
        so a gc's grace period covers a put that reuses them; elsewhere only ``exists``."""
        present = self.exists(digests)
        call = getattr(self.fs, "call_s3", None)
        if call is None or not present:
            return present
        from keel.artifacts.local import FRESHEN_AFTER_S

        cutoff = time.time() - FRESHEN_AFTER_S

        def touch(digest: str) -> None:
            key = self._key(digest)
            if _mtime(self.fs.info(key)) < cutoff:
                bucket, name, _ = self.fs.split_path(key)
                source = {"Bucket": bucket, "Key": name}
                call("copy_object", Bucket=bucket, Key=name, CopySource=source, MetadataDirective="REPLACE")

        try:
            with ThreadPoolExecutor(max_workers=WORKERS) as pool:
                list(pool.map(touch, sorted(present)))
        except Exception as exc:
            raise self._fail(exc, "refreshing objects it reuses") from None
        return present

    def freshen(self, digests: list[str]) -> None:
        self.exists_and_freshen(digests)

    def quarantine(self, digest: str) -> bool:
        key = self._key(digest)
        try:
            with self.fs.open(key, "rb") as handle:
                if hash_reader(handle) == digest:
                    return False  # intact (a repair got there first)
            self.fs.mv(key, f"{self.root}/.corrupt/{digest}")
        except FileNotFoundError:
            return False
        except Exception as exc:
            raise self._fail(exc, f"setting the corrupt object {digest} aside") from None
        return True

    def quarantined(self, digests: list[str]) -> set[str]:
        try:
            aside = {d for d in digests if self.fs.exists(f"{self.root}/.corrupt/{d}")}
        except Exception as exc:
            raise self._fail(exc, "checking for objects set aside as corrupt") from None
        return aside - self.exists(sorted(aside)) if aside else set()

    def delete(self, digests: list[str]) -> int:
        present = sorted(self.exists(digests))
        if present:
            try:
                self.fs.rm([self._key(d) for d in present])
            except Exception as exc:
                raise self._fail(exc, "deleting objects") from None
        return len(present)


def open_fsspec(url: str, options: dict[str, Any], name: str | None = None) -> FsspecBackend:
    """The fsspec backend (entry points ``s3``, ``gs``, ``memory``...; any protocol fsspec knows).

    Raises MissingExtra ("install keel[s3]") when the protocol's library is absent.
    """
    return FsspecBackend(url, options, name=name)
