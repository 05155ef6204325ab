"""Shell steps with declared files, and the keel.lock file git can commit."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

import keel.pipelines as kp
from keel.core.errors import InvalidInput, StepFailed
from keel.pipelines.run import run_pipeline
from keel.pipelines.shell import file_digest


@kp.step
def count_lines(files: dict[str, str]) -> int:
    return len(Path("data/upper.txt").read_text().splitlines())


@kp.pipeline
def text() -> object:
    kp.shell(
        "tr a-z A-Z < data/raw.txt > data/upper.txt",
        inputs=["data/raw.txt"],
        outputs=["data/upper.txt"],
        name="upper",
    )
    rev = kp.shell(
        "rev data/upper.txt > data/rev.txt",
        inputs=["data/upper.txt"],
        outputs=["data/rev.txt"],
        name="reverse",
    )
    return count_lines(rev)


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "raw.txt").write_text("abc\ndef\n")
    return tmp_path


def test_shell_steps_run_in_file_order_and_write_a_lock(client: Any, folder: Path) -> None:
    plan = text.plan()
    assert plan.order.index("upper") < plan.order.index("reverse")
    result = run_pipeline(text, client, project="pipes", lock="keel.lock")
    assert (folder / "data" / "rev.txt").read_text() == "CBA\nFED\n"
    assert result.value("count_lines") == 2
    lock = yaml.safe_load((folder / "keel.lock").read_text())
    upper = lock["pipelines"]["text"]["steps"]["upper"]
    assert upper["cmd"].startswith("tr a-z A-Z")
    assert upper["inputs"] == {"file:data/raw.txt": file_digest(folder / "data" / "raw.txt")}
    assert upper["outputs"] == {"data/upper.txt": file_digest(folder / "data" / "upper.txt")}
    assert lock["pipelines"]["text"]["steps"]["count_lines"]["outputs"]["format"] == "json/1"
    first = (folder / "keel.lock").read_bytes()
    # a re-run is all cached and rewrites the same bytes: git sees no change
    again = run_pipeline(text, client, project="pipes", lock="keel.lock")
    assert all(s.cached for s in again.steps.values())
    assert (folder / "keel.lock").read_bytes() == first


def test_a_cached_shell_step_restores_its_files(client: Any, folder: Path) -> None:
    run_pipeline(text, client, project="pipes")
    (folder / "data" / "rev.txt").unlink()
    (folder / "data" / "upper.txt").write_text("tampered")
    result = run_pipeline(text, client, project="pipes")
    assert all(s.cached for s in result.steps.values())
    assert (folder / "data" / "rev.txt").read_text() == "CBA\nFED\n"
    assert (folder / "data" / "upper.txt").read_text() == "ABC\nDEF\n"


def test_a_changed_input_file_reruns_its_steps(client: Any, folder: Path) -> None:
    run_pipeline(text, client, project="pipes")
    (folder / "data" / "raw.txt").write_text("xyz\n")
    result = run_pipeline(text, client, project="pipes")
    assert not result.steps["upper"].cached and (folder / "data" / "rev.txt").read_text() == "ZYX\n"


def test_steps_feeding_each_others_files_are_a_cycle(folder: Path) -> None:
    @kp.pipeline
    def loop() -> None:
        kp.shell("cp a b", inputs=["a"], outputs=["b"], name="ab")
        kp.shell("cp b a", inputs=["b"], outputs=["a"], name="ba")

    with pytest.raises(InvalidInput, match="pipeline has a cycle"):
        loop.plan()


def test_bad_declarations_are_refused_before_running(folder: Path) -> None:
    @kp.pipeline
    def missing() -> None:
        kp.shell("cat nowhere.txt > out.txt", inputs=["nowhere.txt"], outputs=["out.txt"], name="cat")

    @kp.pipeline
    def twice() -> None:
        kp.shell("echo 1 > o", outputs=["o"], name="one")
        kp.shell("echo 2 > o", outputs=["o"], name="two")

    @kp.pipeline
    def escape() -> None:
        kp.shell("echo > ../o", outputs=["../o"], name="out")

    with pytest.raises(
        InvalidInput, match=re.escape("step cat: input nowhere.txt does not exist and no step makes it")
    ):
        missing.plan()
    with pytest.raises(InvalidInput, match="steps one and two both declare output o"):
        twice.plan()
    with pytest.raises(InvalidInput, match=re.escape("without '..'")):
        escape.plan()
    with pytest.raises(InvalidInput, match=re.escape("inside a @keel.pipeline")):
        kp.shell("true", outputs=["x"])


def test_a_failing_command_or_a_missing_output_fails_naming_the_step(client: Any, folder: Path) -> None:
    @kp.pipeline
    def bad() -> None:
        kp.shell("echo oops >&2; exit 3", outputs=["never.txt"], name="crash")

    @kp.pipeline
    def lazy() -> None:
        kp.shell("true", outputs=["never.txt"], name="idle")

    with pytest.raises(StepFailed, match="step crash failed: RuntimeError: command exited with 3: oops"):
        run_pipeline(bad, client, project="pipes")
    with pytest.raises(
        StepFailed,
        match=re.escape("step idle failed: RuntimeError: declared output never.txt was not written"),
    ):
        run_pipeline(lazy, client, project="pipes")


def test_a_lock_file_that_is_not_keels_is_refused(client: Any, folder: Path) -> None:
    (folder / "keel.lock").write_text("stages: {}\n")
    with pytest.raises(InvalidInput, match="is not a Keel lock file"):
        run_pipeline(text, client, project="pipes", lock="keel.lock")
    assert client.pipelines.list(project="pipes") == [] and not (folder / "data" / "upper.txt").exists()


def test_a_cached_re_run_with_a_lock_looks_the_cache_up_once(client: Any, folder: Path) -> None:
    run_pipeline(text, client, project="pipes", lock="keel.lock")
    calls: list[list[str]] = []
    real = client.pipelines.cache_lookup

    def counting(**kwargs: Any) -> Any:
        calls.append(kwargs["keys"])
        return real(**kwargs)

    client.pipelines.cache_lookup = counting
    result = run_pipeline(text, client, project="pipes", lock="keel.lock")
    assert all(s.cached for s in result.steps.values())
    assert len(calls) == 1 and len(calls[0]) == 3


def test_a_cached_re_run_takes_shell_outputs_from_the_lock_only_when_they_match(
    client: Any, folder: Path
) -> None:
    run_pipeline(text, client, project="pipes", lock="keel.lock")
    downloads: list[str] = []
    real = client.artifacts.download

    def counting(**kwargs: Any) -> Any:
        downloads.append(kwargs["digest"])
        return real(**kwargs)

    client.artifacts.download = counting
    result = run_pipeline(text, client, project="pipes", lock="keel.lock")
    assert all(s.cached for s in result.steps.values()) and downloads == []
    # an edited lock entry is not believed: that step's value is fetched from the store, files stay right
    lock = yaml.safe_load(Path("keel.lock").read_text())
    step = "upper"
    outputs = lock["pipelines"]["text"]["steps"][step]["outputs"]
    outputs[next(iter(outputs))] = "0" * 64
    Path("keel.lock").write_text(yaml.safe_dump(lock))
    again = run_pipeline(text, client, project="pipes", lock="keel.lock")
    assert all(s.cached for s in again.steps.values()) and len(downloads) == 1
    assert again.steps[step].files == result.steps[step].files
