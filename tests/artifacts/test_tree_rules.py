"""Each rule of the tree codec pinned by its exact message: modes, unsafe paths, bad entries and
malformed manifests (the survivors of the mutation run over ``keel.artifacts.tree``, issue 10.13)."""

from __future__ import annotations

import pytest

from keel.artifacts.tree import (
    EXEC_MODE,
    FILE_MODE,
    check_path,
    decode_tree,
    encode_tree,
    normal_mode,
    validate_entries,
)
from keel.core.errors import InvalidInput

HELLO = "ea8f163db38682925e4491c5e58d4bb3506ef8c14eb78a86e908c5624a67200f"  # BLAKE3(b"hello")


@pytest.mark.parametrize(
    ("st_mode", "mode"),
    [
        (0o100644, FILE_MODE),
        (0o100755, EXEC_MODE),
        (0o100744, EXEC_MODE),  # the owner's execute bit alone decides, as git does
        (0o100655, FILE_MODE),  # group and others may execute, the owner not: a plain file
        (0o100600, FILE_MODE),
        (0o100100, EXEC_MODE),
    ],
)
def test_only_the_owners_execute_bit_makes_a_file_executable(st_mode: int, mode: int) -> None:
    assert normal_mode(st_mode) == mode


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("", "tree entry path '' is not a relative POSIX path"),
        ("/etc/passwd", "tree entry path '/etc/passwd' is not a relative POSIX path"),
        ("a\\b", "tree entry path 'a\\\\b' is not a relative POSIX path"),
        ("a\x00b", "tree entry path 'a\\x00b' is not a relative POSIX path"),
        ("C:", "tree entry path 'C:' is absolute"),
        ("C:x", "tree entry path 'C:x' is absolute"),
        ("a//b", "tree entry path 'a//b' has a 'empty' part; '..' is refused"),
        ("a/", "tree entry path 'a/' has a 'empty' part; '..' is refused"),
        ("./a", "tree entry path './a' has a '.' part; '..' is refused"),
        ("a/../b", "tree entry path 'a/../b' has a '..' part; '..' is refused"),
        (
            "x/.KEEL/db",
            "tree entry path 'x/.KEEL/db' is under .keel/, a Keel workspace's own folder; refused",
        ),
        ("\ud800.txt", "tree entry path '\\ud800.txt' is not valid Unicode (a lone surrogate)"),
    ],
)
def test_unsafe_paths_are_refused_by_exact_reason(path: str, message: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        check_path(path)
    assert caught.value.message == message


@pytest.mark.parametrize("path", ["a", "C", "ab:c", "x.keel/y", ".keelrc", "é/ü.txt", 'say "hi".txt'])
def test_safe_paths_pass_unchanged(path: str) -> None:
    assert check_path(path) == path


def test_an_empty_path_is_named_as_such_even_first_in_a_manifest() -> None:
    with pytest.raises(InvalidInput) as caught:
        encode_tree([("", HELLO, 1, FILE_MODE), ("a", HELLO, 1, FILE_MODE)])
    assert caught.value.message == "tree entry path '' is not a relative POSIX path"
    with pytest.raises(InvalidInput) as caught:
        encode_tree([("a", HELLO, 1, FILE_MODE), ("a", HELLO, 2, FILE_MODE)])
    assert caught.value.message == "tree entry path 'a' appears twice"


def test_a_double_quote_in_a_name_is_escaped() -> None:
    manifest = encode_tree([('a"b', HELLO, 1, FILE_MODE)])
    assert b'"path":"a\\"b"' in manifest
    assert [e.path for e in decode_tree(manifest)] == ['a"b']


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (("a", HELLO, -1, FILE_MODE), "tree entry 'a' has a negative size"),
        (("a", HELLO, 1, 0o600), "tree entry 'a' has mode 600; expected 644 or 755"),
        (("a", HELLO, 1, 0o777), "tree entry 'a' has mode 777; expected 644 or 755"),
    ],
)
def test_bad_entries_are_refused_by_exact_reason(entry: tuple[str, str, int, int], message: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        validate_entries([entry])
    assert caught.value.message == message


def test_a_size_of_zero_and_both_modes_are_valid() -> None:
    validate_entries([("a", HELLO, 0, FILE_MODE), ("b", HELLO, 0, EXEC_MODE)])


def _entry(**extra: object) -> str:
    fields = {"digest": f'"{HELLO}"', "mode": "420", "path": '"a"', "size": "1", **extra}
    return "{" + ",".join(f'"{k}":{v}' for k, v in fields.items()) + "}"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"hello", "manifest is not a tree"),
        (b'{"keel_tree":1,"entries":[]', "manifest is not a valid tree manifest: "),
        (b'{"keel_tree":1,"entries":[],"x":1}', "manifest is not a valid tree manifest: unexpected keys"),
        (  # a repeated key: JSON keeps the last, which is not a list
            b'{"keel_tree":1,"entries":[],"entries":{}}',
            "manifest is not a valid tree manifest: unexpected keys",
        ),
        (
            b'{"keel_tree":1,"entries":[' + _entry(extra="1").encode() + b"]}",
            "manifest is not a valid tree manifest: malformed entry",
        ),
        (b'{"keel_tree":1,"entries":[["a"]]}', "manifest is not a valid tree manifest: malformed entry"),
        (
            b'{"keel_tree":1,"entries":[' + _entry(mode="420 ").encode() + b"]}",
            "manifest is not a canonical tree manifest (order or spacing differs)",
        ),
    ],
)
def test_malformed_manifests_are_refused_by_exact_reason(data: bytes, message: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        decode_tree(data)
    assert caught.value.message.startswith(message)
    if message.endswith(": "):
        assert len(caught.value.message) > len(message)  # the parser's own reason follows


def test_a_decode_error_names_the_object_and_hints_at_single_files() -> None:
    with pytest.raises(InvalidInput) as caught:
        decode_tree(b"hello", HELLO)
    assert caught.value.message == f"object {HELLO} is not a tree"
    assert caught.value.hint == "`keel artifacts get` fetches a single file"
    with pytest.raises(InvalidInput) as caught:
        decode_tree(b'{"keel_tree":1,"entries":[],"x":1}', HELLO)
    assert caught.value.message == f"object {HELLO} is not a valid tree manifest: unexpected keys"
