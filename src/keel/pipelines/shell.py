"""Shell steps, for DVC users: a command with declared input and output files.

``shell("python train.py", inputs=["data/train.csv"], outputs=["model.pkl"])``
inside a pipeline is a step whose dependencies come from its files: a step
that declares a file as an output runs before every step that declares it as
an input (so two steps feeding each other's files are a cycle, refused
before running). Its cache key covers the command, the input files' BLAKE3
digests (the same as their artifact-store names) and its declared
environment; its value is ``{path: digest}`` of its outputs, each file stored
in the artifact store, so a cached step restores its files instead of
running.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path, PurePosixPath
from typing import Any

from blake3 import blake3

from keel.core.errors import InvalidInput
from keel.pipelines.define import _TRACER, Node, Output, Resources, Step

#: Where a failing command's output is cut, so an error stays one readable line.
MAX_ERROR_CHARS = 400


def clean(path: str, step: str) -> str:
    """A declared path, normalised and relative; absolute paths and ``..`` are refused."""
    pure = PurePosixPath(path.replace(os.sep, "/"))
    if not path or pure.is_absolute() or ".." in pure.parts:
        raise InvalidInput(
            f"step {step}: path {path!r} must be relative to the pipeline's folder, without '..'"
        )
    return str(pure)


def file_digest(path: str | Path) -> str:
    """BLAKE3 of a file's bytes: the name the artifact store gives it."""
    h = blake3()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


class ShellStep(Step[..., dict[str, str]]):
    """One shell command as a step."""

    def __init__(
        self,
        cmd: str,
        *,
        name: str,
        inputs: Sequence[str],
        outputs: Sequence[str],
        env: Mapping[str, str] | None,
        resources: Resources,
    ) -> None:
        def run_command() -> dict[str, str]:
            return self.execute()

        run_command.__name__ = run_command.__qualname__ = name
        super().__init__(run_command, resources=resources, env=env)
        self.cmd = cmd
        self.inputs = [clean(p, name) for p in inputs]
        self.outputs = [clean(p, name) for p in outputs]
        if not self.outputs:
            raise InvalidInput(f"step {name}: a shell step declares at least one output")
        if len(set(self.outputs)) != len(self.outputs):
            raise InvalidInput(f"step {name}: an output is declared twice")

    def execute(self) -> dict[str, str]:
        """Run the command in the current folder; every declared output must exist after it, as a file."""
        done = subprocess.run(self.cmd, shell=True, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            tail = (done.stderr or done.stdout).strip()[-MAX_ERROR_CHARS:]
            raise RuntimeError(f"command exited with {done.returncode}: {tail or self.cmd}")
        for out in self.outputs:
            if not Path(out).is_file():
                raise RuntimeError(f"declared output {out} was not written (or is not a file)")
        return {out: file_digest(out) for out in self.outputs}


def shell(
    cmd: str,
    *,
    inputs: Sequence[str] = (),
    outputs: Sequence[str],
    name: str | None = None,
    env: Mapping[str, str] | None = None,
    cpu: float = 1.0,
) -> Output:
    """Add a shell step to the pipeline being traced (only inside a ``@pipeline`` function)."""
    tracer = _TRACER.get()
    if tracer is None:
        raise InvalidInput("keel shell steps are declared inside a @keel.pipeline function")
    st = ShellStep(
        cmd,
        name=name or (cmd.split()[0] if cmd.split() else "shell"),
        inputs=inputs,
        outputs=outputs,
        env=env,
        resources=Resources(cpu=cpu),
    )
    return tracer.add(st, (), {})


def link_files(nodes: Mapping[str, Node]) -> None:
    """Order shell steps by their files: the maker of a file runs before its users.

    Raises InvalidInput for a file two steps declare as an output, and for an
    input no step makes and that does not exist here.
    """
    makers: dict[str, str] = {}
    for node in nodes.values():
        if isinstance(node.step, ShellStep):
            for out in node.step.outputs:
                if out in makers:
                    raise InvalidInput(f"steps {makers[out]} and {node.name} both declare output {out}")
                makers[out] = node.name
    for node in nodes.values():
        if isinstance(node.step, ShellStep):
            for inp in node.step.inputs:
                maker = makers.get(inp)
                if maker is not None and maker != node.name:
                    node.after.add(maker)
                elif maker is None and not Path(inp).exists():
                    raise InvalidInput(f"step {node.name}: input {inp} does not exist and no step makes it")


def input_digests(node: Node) -> dict[str, str]:
    """The digests of a shell step's input files now (for its cache key and the lock file)."""
    if not isinstance(node.step, ShellStep):
        return {}
    digests: dict[str, str] = {}
    for inp in node.step.inputs:
        path = Path(inp)
        if path.is_file():
            digests[inp] = file_digest(path)
        elif path.is_dir():
            h = blake3()
            for f in sorted(p for p in path.rglob("*") if p.is_file()):
                h.update(f"{f.relative_to(path).as_posix()}\0{file_digest(f)}\0".encode())
            digests[inp] = h.hexdigest()
        else:
            raise InvalidInput(f"step {node.name}: input {inp} does not exist when the step starts")
    return digests


def restore(outputs: Mapping[str, str], fetch: Any) -> None:
    """Put a cached shell step's output files in place: each missing or different file is fetched by digest."""
    for path, digest in sorted(outputs.items()):
        target = Path(path)
        if target.is_file() and file_digest(target) == digest:
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(target.name + ".keel-tmp")
        tmp.write_bytes(fetch(digest))
        os.replace(tmp, target)
