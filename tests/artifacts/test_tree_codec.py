"""The tree manifest codec: exact bytes and digests for fixed trees, and decode(encode(x)) = x for any.

The hand-written encoder skips ``json.dumps`` for plain names; these tests
hold it equal to a plain reference (``json.dumps`` with sorted keys and no
spaces) over generated names with quotes, backslashes, control characters
and any Unicode, so an encoder that stopped escaping ``"`` is caught at once.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from keel.artifacts.digest import hash_bytes
from keel.artifacts.model import TreeEntry
from keel.artifacts.tree import EXEC_MODE, FILE_MODE, check_path, decode_tree, encode_tree
from keel.core.errors import InvalidInput

HELLO = "ea8f163db38682925e4491c5e58d4bb3506ef8c14eb78a86e908c5624a67200f"  # BLAKE3(b"hello")
EMPTY = "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262"  # BLAKE3(b"")

Entry = tuple[str, str, int, int]


@pytest.mark.parametrize(
    ("entries", "manifest", "digest"),
    [
        (
            [],
            b'{"keel_tree":1,"entries":[]}',
            "54aa61e203a3900dff6f4b5d5dc1f8b426e5780998557031a2a4810b5fd2774d",
        ),
        (
            [("a.txt", HELLO, 5, FILE_MODE)],
            b'{"keel_tree":1,"entries":[{"digest":"'
            + HELLO.encode()
            + b'","mode":420,"path":"a.txt","size":5}]}',
            "fcf6af64a12dd9c94c27cd06afa304297fdb71908cbd40801055a455d2ae42fa",
        ),
        (
            [('say "hi".txt', HELLO, 5, FILE_MODE), ("bin/run", EMPTY, 0, EXEC_MODE)],
            b'{"keel_tree":1,"entries":[{"digest":"'
            + EMPTY.encode()
            + b'","mode":493,"path":"bin/run","size":0},'
            b'{"digest":"' + HELLO.encode() + b'","mode":420,"path":"say \\"hi\\".txt","size":5}]}',
            "44d542efdeb81c734df7facd5302d40d226e57f71aa4b4efde95ccf4278dd226",
        ),
        (
            [('donn\u00e9es/\u00e9\t"x".csv', EMPTY, 0, FILE_MODE)],
            b'{"keel_tree":1,"entries":[{"digest":"' + EMPTY.encode() + b'","mode":420,'
            b'"path":"donn\xc3\xa9es/\xc3\xa9\\t\\"x\\".csv","size":0}]}',
            "b032c36c8cc0dfa67d9d3156d0f618a94254b00ea65b4b60761ef12f4924c1fc",
        ),
    ],
)
def test_fixed_trees_have_fixed_bytes_and_digests(entries: list[Entry], manifest: bytes, digest: str) -> None:
    assert encode_tree(entries) == manifest
    assert hash_bytes(encode_tree(entries)) == digest
    assert [(e.path, e.digest, e.size, e.mode) for e in decode_tree(manifest, digest)] == sorted(entries)


def _reference(entries: list[Entry]) -> bytes:
    """The manifest as plain ``json.dumps`` writes it: the meaning the fast encoder must keep."""
    doc = {
        "keel_tree": 1,
        "entries": [{"digest": d, "mode": m, "path": p, "size": s} for p, d, s, m in sorted(entries)],
    }
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


#: Name parts that stress the escaping: quotes, backslashes, controls, non-ASCII, lone surrogates, dots.
_part = st.one_of(
    st.text(min_size=1, max_size=12),
    st.text(alphabet='"\\\t\n\x01\x7f \u00e9\u2028\U0001f600ab', min_size=1, max_size=8),
    st.sampled_from([".", "..", ".keel", "x.keel", '"', "\\", "\ud800"]),
)
_path = st.lists(_part, min_size=1, max_size=4).map("/".join)
_digest = st.sampled_from([HELLO, EMPTY, "0" * 64])
_entry = st.tuples(
    _path, _digest, st.integers(min_value=0, max_value=2**53), st.sampled_from([FILE_MODE, EXEC_MODE])
)


def _valid(path: str) -> bool:
    try:
        check_path(path)
    except InvalidInput:
        return False
    return True


@settings(max_examples=200, deadline=None)
@given(st.lists(_entry, max_size=6, unique_by=lambda e: e[0]))
@example([('quote"d', HELLO, 1, FILE_MODE)])
@example([('a"b/c\\"d', HELLO, 1, FILE_MODE)])
def test_decode_of_encode_is_the_identity(entries: list[Entry]) -> None:
    if not all(_valid(e[0]) for e in entries):
        with pytest.raises(InvalidInput, match="tree entry path"):
            encode_tree(entries)
        return
    manifest = encode_tree(entries)
    assert manifest == _reference(entries)
    decoded = decode_tree(manifest, hash_bytes(manifest))
    assert decoded == [TreeEntry(path=p, digest=d, size=s, mode=m) for p, d, s, m in sorted(entries)]
    assert encode_tree([(e.path, e.digest, e.size, e.mode) for e in decoded]) == manifest


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=30))
def test_any_name_is_either_refused_or_round_trips(name: str) -> None:
    if not _valid(name):
        assert "\\" in name or "\x00" in name or not name or name.startswith("/") or _has_bad_part(name)
        return
    manifest = encode_tree([(name, EMPTY, 0, FILE_MODE)])
    assert decode_tree(manifest)[0].path == name


def _has_bad_part(name: str) -> bool:
    parts = name.split("/")
    return (
        any(p in ("", ".", "..") or p.lower() == ".keel" for p in parts)
        or (len(name) >= 2 and name[1] == ":")
        or not _encodable(name)
    )


def _encodable(name: str) -> bool:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def test_bad_manifests_are_refused_with_a_reason() -> None:
    with pytest.raises(InvalidInput, match="not a tree"):
        decode_tree(b'{"keel":1}')
    with pytest.raises(InvalidInput, match="not a valid tree manifest"):
        decode_tree(b'{"keel_tree":1,"entries":[{"path":"a"}]}')
    with pytest.raises(InvalidInput, match="not a valid tree manifest"):
        decode_tree(b'{"keel_tree":1,"entries":[{"digest":"x","mode":420,"path":"a\\"","size":0}]')
    with pytest.raises(InvalidInput, match="canonical"):
        decode_tree(
            b'{"keel_tree":1,"entries":[{"digest":"'
            + EMPTY.encode()
            + b'","mode":420,"path":"\\u0061","size":0}]}'
        )
