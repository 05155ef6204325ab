"""A version's record as an object: what ``keel data push`` sends beside the bytes, and a clone reads back.

A record is the version's metadata (number, id, digests, schema, profile,
summary, message, author, time, parents, tags) as JSON, stored in a remote
like any object (named by its BLAKE3), with its format version inside, so a
clone's workspace gets the version itself, not only the bytes, and shows the
same ``@v3`` as its origin.
"""

from __future__ import annotations

import json
from typing import Final

from pydantic import ValidationError

from keel.core.errors import InvalidInput
from keel.datasets.schemas import DatasetVersion

#: What a record says it is, and the format version this Keel writes and reads.
KIND: Final = "keel.dataset_version"
FORMAT: Final = 1


def encode_record(version: DatasetVersion) -> bytes:
    """The record's bytes (sorted keys, so one version always makes the same object)."""
    body = {"kind": KIND, "format": FORMAT, "version": version.model_dump(mode="json")}
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode()


def decode_record(data: bytes, where: str) -> DatasetVersion:
    """A record's version; InvalidInput naming ``where`` it came from if it is not one this Keel reads."""
    try:
        body = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidInput(f"{where} is not a dataset version record: {exc}") from None
    if not isinstance(body, dict) or body.get("kind") != KIND:
        raise InvalidInput(f"{where} is not a dataset version record")
    if body.get("format") != FORMAT:
        raise InvalidInput(
            f"{where} is a version record of format {body.get('format')!r}; this Keel reads format {FORMAT}",
            hint="upgrade Keel on this machine",
        )
    try:
        return DatasetVersion.model_validate(body.get("version"))
    except ValidationError as exc:
        raise InvalidInput(f"{where} is a malformed version record: {exc.errors()[0]['msg']}") from None
