"""A killed writer's temporaries go at the next add or fsck; a live writer's stay, however young."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from keel.artifacts import ArtifactStore, fsck, open_artifacts
from keel.artifacts.tempfiles import clean_temp

_KILLED_WRITER = """
import os, signal, sys
from keel.artifacts import open_artifacts
store = open_artifacts(sys.argv[1])
with open(store.backend._stemp(), "wb") as half:  # the temporary an interrupted put leaves
    half.write(b"half an object")
    half.flush()
    os.kill(os.getpid(), signal.SIGKILL)
"""


def _leftovers(store: ArtifactStore) -> list[str]:
    tmp = store.backend.tmp  # type: ignore[attr-defined]
    return sorted(p.name for p in tmp.iterdir() if not p.name.endswith(".lock"))


def _killed_writer(store: ArtifactStore) -> None:
    proc = subprocess.run([sys.executable, "-c", _KILLED_WRITER, store.url], check=False, timeout=60)
    assert proc.returncode == -9
    assert len(_leftovers(store)) == 1


def test_the_next_add_removes_a_killed_writers_temporaries(store: ArtifactStore, tmp_path: Path) -> None:
    _killed_writer(store)
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "a.csv").write_text("a\n")
    store.put_tree(folder)
    assert _leftovers(store) == []
    _killed_writer(store)
    store.put_file(folder / "a.csv", use_stat_cache=True)  # a one-file add
    assert _leftovers(store) == []
    assert [p.name for p in store.backend.tmp.iterdir() if p.name.endswith(".lock")] != []  # type: ignore[attr-defined]


def test_fsck_removes_a_killed_writers_temporaries(store: ArtifactStore) -> None:
    _killed_writer(store)
    assert fsck(store).ok
    assert _leftovers(store) == []


def test_a_live_writers_temporaries_are_kept(store: ArtifactStore, tmp_path: Path) -> None:
    other = open_artifacts(store.url)  # another writer, alive (its lock is held)
    live = other.backend._stemp()  # type: ignore[attr-defined]
    Path(live).write_bytes(b"being written")
    assert store.backend.clean_temp() == 0
    assert Path(live).exists()
    del other  # the writer goes away: its lock is released, its leftovers are fair game
    import gc

    gc.collect()
    assert store.backend.clean_temp() == 1
    assert not Path(live).exists()


def test_temporaries_named_by_an_older_keel_go_by_pid_or_age(tmp_path: Path) -> None:
    folder = tmp_path / "tmp"
    folder.mkdir()
    dead = folder / "999999999-1-abc"  # no such process
    alive_young = folder / f"{os.getpid()}-1-def"
    alive_old = folder / f"{os.getpid()}-1-ghi"
    for path in (dead, alive_young, alive_old):
        path.write_bytes(b"x")
    hour_ago = time.time() - 7200
    os.utime(alive_old, (hour_ago, hour_ago))
    assert clean_temp(str(folder)) == 2
    assert [p.name for p in folder.iterdir()] == [alive_young.name]


def test_cleaning_a_missing_folder_is_a_no_op(tmp_path: Path) -> None:
    assert clean_temp(str(tmp_path / "nowhere")) == 0
