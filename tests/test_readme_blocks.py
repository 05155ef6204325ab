"""Every shell and Python block of the README runs, in order, in one fresh folder, and what it says it
prints is checked (issue 10.2).

The README is parsed, not copied, so a change to it (or to the code under it) shows up here. The
rules the README's blocks follow, so that a reader can run them as written and this test can too:

- Blocks run in README order in one fresh folder with its own HOME; the "Set up" block is CI's
  (``.ci/run`` runs command 1 in a bare virtual environment). ``export`` lasts to the block's end.
- A shell command's ``# -> TEXT`` comment: its output contains TEXT. A Python line
  ``print(...)  # TEXT``: it prints exactly TEXT.
- ``keel server ...`` starts a real server in the background on a free loopback port (``--host``
  becomes 127.0.0.1); the block's later URLs ``http://host:5000`` / ``http://127.0.0.1:5000`` reach it.
- Hidden comments before a block prepare what a reader would have at hand:
  ``<!-- readme-test: run CMD -->`` runs CMD first; ``<!-- readme-test: set <x> = CMD -->`` replaces
  ``<x>`` in the block by CMD's output (run when first needed); ``<!-- readme-test: capture <x>
  /REGEX/ from PREFIX -->`` takes ``<x>``, for the rest of the README, from the output of the
  command starting with PREFIX; ``fresh`` moves to a new empty folder (for this block and the
  rest); ``s3`` starts an S3 endpoint (moto) on loopback that ``http://127.0.0.1:9000`` reaches,
  with a bucket ``bucket``; ``postgres`` runs the block on a new database of the PostgreSQL that
  KEEL_TEST_POSTGRES names (skipped without it), in place of the block's ``KEEL_DB_URL``.
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
FENCE = re.compile(r"((?:[ \t]*<!-- readme-test: .*? -->\n)*)[ \t]*```(bash|python)\n(.*?)```", re.S)
DIRECTIVE = re.compile(r"<!-- readme-test: (.*?) -->")
SERVER_URL = re.compile(r"http://(?:host|127\.0\.0\.1):5000")


@dataclass
class Block:
    section: str
    language: str
    code: str
    directives: list[str]
    line: int


@dataclass
class Outcome:
    command: str
    ok: bool
    detail: str = ""


@dataclass
class Section:
    name: str
    outcomes: list[Outcome] = field(default_factory=list)


def readme_blocks(text: str | None = None) -> list[Block]:
    """The README's runnable blocks with their section and directives, outside "Set up"."""
    text = README.read_text(encoding="utf-8") if text is None else text
    blocks = []
    for match in FENCE.finditer(text):
        before = text[: match.start()]
        headings = re.findall(r"^## (.+)$", before, flags=re.M)
        section = headings[-1] if headings else ""
        if section == "Set up":
            continue
        blocks.append(
            Block(
                section,
                match.group(2),
                textwrap.dedent(match.group(3)),
                DIRECTIVE.findall(match.group(1)),
                before.count("\n") + 1,
            )
        )
    return blocks


def shell_commands(code: str) -> list[tuple[str, str | None]]:
    """(command, expected output or None) for each logical line; comments are dropped."""
    commands = []
    pending = ""
    for raw in code.splitlines():
        line = raw.rstrip()
        if not line or (not pending and line.lstrip().startswith("#")):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        full = pending + line
        pending = ""
        command, expected = _split_comment(full)
        commands.append((command, expected))
    return commands


def _split_comment(line: str) -> tuple[str, str | None]:
    """A shell line without its trailing ``# comment``; the text after ``# ->`` is what it prints."""
    quote: str | None = None
    for i, ch in enumerate(line):
        if quote:
            if ch == quote:
                quote = None
        elif ch in "'\"":
            quote = ch
        elif ch == "#" and (i == 0 or line[i - 1].isspace()):
            comment = line[i + 1 :].strip()
            expected = comment[2:].strip() if comment.startswith("->") else None
            return line[:i].rstrip(), expected
    return line, None


def python_script(code: str) -> str:
    """The block with each ``print(...)  # TEXT`` turned into a check that it prints exactly TEXT."""
    out = [
        "def __readme_print(expected, *args):",
        "    text = ' '.join(str(a) for a in args)",
        "    print(text)",
    ]
    out.append("    assert text == expected, f'README says {expected!r}, got {text!r}'")
    for line in code.splitlines():
        match = re.match(r"^(\s*)print\((.*)\)\s+#\s(.+)$", line)
        out.append(
            f"{match.group(1)}__readme_print({match.group(3).strip()!r}, {match.group(2)})" if match else line
        )
    return "\n".join(out) + "\n"


#: A process that imports the CLI once and forks a child per ``keel`` command: a command then costs
#: a fork, not an interpreter start and Keel's imports (seconds on a busy 2-core machine). Each child
#: is a fresh copy: its own environment, folder, stdin/stdout/stderr (passed over the socket) and exit
#: code, so pipes and ``$(...)`` behave as with the installed command.
ZYGOTE = r"""
import json, os, signal, socket, sys
import keel.cli.main
for name in ("keel.client", "keel.services", "keel.cli.project_cmd", "keel.cli.data_cmd", "keel.cli.run_cmd",
             "keel.cli.artifacts_cmd", "keel.cli.user_cmd", "keel.cli.token_cmd", "rich.table", "pyarrow.parquet"):
    __import__(name)
signal.signal(signal.SIGCHLD, signal.SIG_IGN)
server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
server.bind(sys.argv[1])
server.listen(16)
while True:
    conn, _ = server.accept()
    if os.fork():
        conn.close()
        continue
    server.close()
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    message, fds, _, _ = socket.recv_fds(conn, 1 << 20, 3)
    request = json.loads(message)
    pid = os.fork()
    if pid == 0:
        conn.close()
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        sys.argv = ["keel", *request["argv"]]
        code = 0
        try:
            keel.cli.main.main(request["argv"])
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    for fd in fds:
        os.close(fd)
    _, status = os.waitpid(pid, 0)
    conn.sendall(str(os.waitstatus_to_exitcode(status)).encode())
    os._exit(0)
"""

#: The ``keel`` the README's shell lines find first on PATH: hands its argv, environment, folder and
#: standard streams to the zygote and exits with the command's code.
SHIM = r"""#!{python} -S
import json, os, socket, sys
conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
conn.connect({path!r})
request = {{"argv": sys.argv[1:], "env": dict(os.environ), "cwd": os.getcwd()}}
socket.send_fds(conn, [json.dumps(request).encode()], [0, 1, 2])
sys.exit(int(conn.recv(16) or b"3"))
"""


class Runner:
    """Runs the blocks in one folder, one environment, and at most one server at a time."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.folder = root / "tour"
        self.folder.mkdir()
        self.values: dict[str, str] = {}
        self.lazy: dict[str, str] = {}
        (root / "home").mkdir()
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("KEEL_", "AWS_"))}
        self.env.update(HOME=str(root / "home"), COLUMNS="200", NO_COLOR="1")
        self.env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{self.env.get('PATH', '')}"
        self.server: subprocess.Popen[bytes] | None = None
        self.server_url = ""
        self.s3: object | None = None
        self.databases: list[str] = []
        self.zygote = self._start_zygote()

    def _start_zygote(self) -> subprocess.Popen[bytes]:
        bin_dir = self.root / "bin"
        bin_dir.mkdir()
        path = str(self.root / "keel.sock")
        zygote = subprocess.Popen(
            [sys.executable, "-c", ZYGOTE, path], env=self.env, start_new_session=True, cwd=self.root
        )
        deadline = time.monotonic() + 60
        while not os.path.exists(path):
            if zygote.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the keel zygote did not start")
            time.sleep(0.05)
        shim = bin_dir / "keel"
        shim.write_text(SHIM.format(python=sys.executable, path=path), encoding="utf-8")
        shim.chmod(0o755)
        self.env["PATH"] = f"{bin_dir}{os.pathsep}{self.env['PATH']}"
        return zygote

    def substitute(self, text: str, env: dict[str, str] | None = None) -> str:
        for key in list(self.lazy):
            if key in text:
                done = self.shell(self.substitute(self.lazy.pop(key)), env or self.env)
                if done.returncode != 0 or not done.stdout.strip():
                    raise RuntimeError(f"the value of {key} could not be made: {done.stdout}{done.stderr}")
                self.values[key] = done.stdout.strip()
        for key, value in self.values.items():
            text = text.replace(key, value)
        return SERVER_URL.sub(self.server_url, text) if self.server_url else text

    def fresh(self) -> None:
        self.folder = self.root / f"fresh-{len(list(self.root.iterdir()))}"
        self.folder.mkdir()

    def start_s3(self) -> None:
        if self.s3 is not None:
            return
        import s3fs
        from moto.server import ThreadedMotoServer

        from keel.testing.fixtures import free_port

        port = free_port()
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
        server.start()
        self.s3 = server
        url = f"http://127.0.0.1:{port}"
        self.values["http://127.0.0.1:9000"] = url
        aws = {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
        }
        self.env.update(aws)
        s3fs.S3FileSystem(key="testing", secret="testing", client_kwargs={"endpoint_url": url}).mkdir(
            "bucket"
        )

    def new_database(self, url: str) -> str:
        """A new, empty database on the server of ``url`` (dropped at the end); its URL."""
        import uuid

        from sqlalchemy import create_engine, text
        from sqlalchemy.engine import make_url

        name = f"keel_readme_{uuid.uuid4().hex[:12]}"
        admin = create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        self.databases.append(url)
        self.databases.append(name)
        return make_url(url).set(database=name).render_as_string(hide_password=False)

    def close(self) -> None:
        self.stop_server()
        if self.zygote.poll() is None:
            os.killpg(self.zygote.pid, signal.SIGTERM)
            self.zygote.wait(timeout=10)
        if self.s3 is not None:
            self.s3.stop()  # type: ignore[attr-defined]
        if self.databases:
            from sqlalchemy import create_engine, text
            from sqlalchemy.engine import make_url

            for url, name in zip(self.databases[::2], self.databases[1::2], strict=True):
                admin = create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
                with admin.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                admin.dispose()

    def shell(
        self, command: str, env: dict[str, str], timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        started = time.monotonic()
        try:
            return self._shell(command, env, timeout)
        finally:
            if os.environ.get("KEEL_README_TIMES"):  # where the time goes: KEEL_README_TIMES=1 pytest -s
                sys.stderr.write(f"{time.monotonic() - started:6.2f}s  {command[:100]}\n")

    def _shell(self, command: str, env: dict[str, str], timeout: float) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["bash", "-c", command],
            cwd=self.folder,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )

    def start_server(self, command: str, env: dict[str, str]) -> Outcome:
        self.stop_server()
        from keel.testing.fixtures import free_port

        port = free_port()
        args = shlex.split(command.rstrip("&").strip())[2:]
        cleaned: list[str] = []
        skip = False
        for arg in args:
            if skip:
                skip = False
                continue
            if arg in ("--port", "--host"):
                skip = True
                continue
            cleaned.append(arg)
        log = open(self.folder / f"server-{port}.log", "w")  # noqa: SIM115 - the server writes it until stopped
        self.server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "keel.cli.main",
                "server",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                *cleaned,
            ],
            cwd=self.folder,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.server_url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.server.poll() is not None:
                return Outcome(command, False, (self.folder / f"server-{port}.log").read_text())
            try:
                if httpx.get(f"{self.server_url}/api/v1/health", timeout=1).status_code == 200:
                    return Outcome(command, True)
            except httpx.TransportError:
                time.sleep(0.1)
        return Outcome(command, False, "the server did not answer within 30 s")

    def stop_server(self) -> None:
        if self.server is not None and self.server.poll() is None:
            os.killpg(self.server.pid, signal.SIGTERM)
            try:
                self.server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.server.pid, signal.SIGKILL)
                self.server.wait()
        self.server = None

    def run_block(self, block: Block) -> list[Outcome]:
        try:
            return self._run_block(block)
        finally:
            self.lazy.clear()
            for key in [k for k in self.values if k in self.block_scoped]:
                del self.values[key]

    block_scoped: set[str] = set()

    def _run_block(self, block: Block) -> list[Outcome]:
        outcomes: list[Outcome] = []
        captures: list[tuple[str, re.Pattern[str], str]] = []
        if "fresh" in block.directives:
            self.fresh()
        if "s3" in block.directives:
            self.start_s3()
        env = dict(self.env)
        if "postgres" in block.directives:
            url = os.environ.get("KEEL_TEST_POSTGRES")
            if not url:
                return [
                    Outcome(
                        f"PostgreSQL block at README line {block.line}",
                        True,
                        "skipped: no KEEL_TEST_POSTGRES",
                    )
                ]
            self.values[re.search(r"KEEL_DB_URL=(\S+)", block.code).group(1)] = self.new_database(url)  # type: ignore[union-attr]
        for directive in block.directives:
            if directive.startswith("run "):
                done = self.shell(self.substitute(directive[4:], env), env)
                outcomes.append(Outcome(directive, done.returncode == 0, done.stdout + done.stderr))
            elif directive.startswith("set "):
                name, _, command = directive[4:].partition(" = ")
                self.lazy[name.strip()] = command
                self.block_scoped = {*self.block_scoped, name.strip()}
            elif directive.startswith("capture "):
                match = re.match(r"capture (\S+) /(.+)/ from (.+)$", directive)
                assert match, f"bad directive {directive!r}"
                captures.append((match.group(1), re.compile(match.group(2)), match.group(3).strip()))
        if block.language == "python":
            script = self.root / f"block-{block.line}.py"
            script.write_text(python_script(self.substitute(block.code, env)), encoding="utf-8")
            done = subprocess.run(
                [sys.executable, str(script)],
                cwd=self.folder,
                env=env,
                capture_output=True,
                text=True,
                timeout=300,
            )
            outcomes.append(
                Outcome(
                    f"python block at README line {block.line}",
                    done.returncode == 0,
                    done.stdout + done.stderr,
                )
            )
            return outcomes
        for command, expected in shell_commands(block.code):
            try:
                actual = self.substitute(command, env)
            except RuntimeError as exc:
                outcomes.append(Outcome(command, False, str(exc)))
                continue
            if re.match(r"^keel server\b", actual):
                outcomes.append(self.start_server(actual, env))
                continue
            export = re.match(r"^export (\w+)=(.*)$", actual)
            if export:
                env[export.group(1)] = shlex.split(export.group(2))[0] if export.group(2) else ""
                outcomes.append(Outcome(command, True))
                continue
            done = self.shell(actual, env)
            output = done.stdout + done.stderr
            ok = done.returncode == 0 and (expected is None or self.substitute(expected) in output)
            detail = f"exit {done.returncode}; expected {expected!r}\n{output[-2000:]}"
            outcomes.append(Outcome(command, ok, detail))
            for name, pattern, prefix in captures:
                if command.startswith(prefix) and (found := pattern.search(output)):
                    self.values[name] = found.group(0)
        return outcomes


@pytest.fixture(scope="module")
def readme_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Section]]:
    runner = Runner(tmp_path_factory.mktemp("readme"))
    sections: dict[str, Section] = {}
    try:
        for block in readme_blocks():
            section = sections.setdefault(block.section, Section(block.section))
            section.outcomes.extend(runner.run_block(block))
        yield sections
    finally:
        runner.close()


SECTIONS = list(dict.fromkeys(b.section for b in readme_blocks()))


@pytest.mark.slow
@pytest.mark.timeout(900)  # the first section also runs the whole README (about 30 s of CPU)
@pytest.mark.parametrize("section", SECTIONS)
def test_readme_section_runs_as_written(readme_run: dict[str, Section], section: str) -> None:
    failed = [o for o in readme_run[section].outcomes if not o.ok]
    assert not failed, "\n\n".join(f"$ {o.command}\n{o.detail}" for o in failed)


# -- the parser itself, on bad and edge inputs ------------------------------------------------------


def test_comments_and_expectations_are_split_off() -> None:
    assert _split_comment("keel init   # creates .keel/") == ("keel init", None)
    assert _split_comment("keel project ls   # -> churn") == ("keel project ls", "churn")
    assert _split_comment("""keel run ls --filter "a = '#1'"  # -> x""") == (
        """keel run ls --filter "a = '#1'\"""",
        "x",
    )
    assert _split_comment("echo a#b") == ("echo a#b", None)


def test_continuation_lines_make_one_command() -> None:
    assert shell_commands("keel project create churn \\\n  --kpi 'a >= 1'  # -> ok\n# only a comment\n") == [
        ("keel project create churn    --kpi 'a >= 1'", "ok")
    ]


def test_a_print_with_a_comment_becomes_a_check() -> None:
    script = python_script("x = 1\nprint(x, 'a')     # 1 a\nprint(x)\n")
    assert "__readme_print('1 a', x, 'a')" in script and "\nprint(x)\n" in script
    wrong = subprocess.run(
        [sys.executable, "-c", python_script("print(2)  # 3\n")], capture_output=True, text=True
    )
    assert wrong.returncode == 1 and "README says '3', got '2'" in wrong.stderr


def test_blocks_keep_their_section_and_directives() -> None:
    text = "## Set up\n```bash\npip install\n```\n## Tour\n<!-- readme-test: run touch x -->\n```bash\nkeel init\n```\n"
    (block,) = readme_blocks(text)
    assert (block.section, block.language, block.directives, block.code) == (
        "Tour",
        "bash",
        ["run touch x"],
        "keel init\n",
    )


def test_the_readme_has_runnable_blocks_in_every_tour() -> None:
    assert {"A short tour of the CLI", "A short tour of the SDK", "Tracking experiments"} <= set(SECTIONS)
