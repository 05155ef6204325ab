"""Settings, declared once as data.

Each :class:`Setting` record (name, type, default, help, env var) drives
validation, ``keel config show``, the CLI's global options and the docs test.
Precedence, highest first: an explicit override (a CLI flag) > the ``KEEL_*``
environment variable > ``.keel/config.toml`` > the default. This is the only
module that reads the environment for settings.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal

from keel.core.errors import ConfigError, WorkspaceNotFound

Source = Literal["flag", "env", "config", "default", "workspace"]


@dataclass(frozen=True)
class Setting:
    """One setting: its name, type, default, help line and environment variable."""

    name: str
    type: type
    default: Any
    help: str
    secret: bool = False

    @property
    def env(self) -> str:
        return "KEEL_" + self.name.upper()


SETTINGS: Final[tuple[Setting, ...]] = (
    Setting("home", str, None, "The workspace folder (.keel/); found by walking up from here."),
    Setting("db_url", str, None, "Metadata database URL; default: SQLite file keel.db in the workspace."),
    Setting(
        "artifacts_url",
        str,
        None,
        "Artifact store URL (a folder or s3://bucket/prefix); default: objects/ in the workspace.",
    ),
    Setting("server_url", str, None, "A Keel server to talk to instead of a local workspace."),
    Setting("token", str, None, "API token for the server named by server_url.", secret=True),
    Setting(
        "project",
        str,
        "default",
        "The current project: what commands use when none is named (`keel project use NAME` sets it).",
    ),
    Setting("server_host", str, "127.0.0.1", "Address `keel server` listens on."),
    Setting("server_port", int, 5000, "Port `keel server` listens on."),
    Setting(
        "db_busy_timeout_ms",
        int,
        30_000,
        "How long a SQLite writer waits for the lock, in milliseconds.",
    ),
    Setting(
        "db_synchronous",
        str,
        "normal",
        "SQLite durability, normal or full. normal (WAL, synced at checkpoints): a commit survives a "
        "crash of Keel but a power cut may lose the last ones; full syncs every commit (slower small writes).",
    ),
    Setting(
        "db_statement_timeout_s",
        float,
        20.0,
        "Longest one database statement of a `keel server` request may run, in seconds; "
        "past it the request answers 503. 0 turns it off.",
    ),
    Setting(
        "server_trusted_proxies",
        str,
        None,
        "Addresses of reverse proxies (comma-separated IPs or CIDRs) whose X-Forwarded-For `keel server` "
        "believes for the client address; default none (the socket peer is the client).",
    ),
    Setting("http_timeout_s", float, 30.0, "Timeout of one HTTP request to a Keel server, in seconds."),
    Setting(
        "http_retries", int, 4, "How often the SDK retries a Keel server that is unreachable or answers 503."
    ),
    Setting("debug", bool, False, "Print tracebacks for errors."),
    Setting("server_max_request_mb", int, 16, "Largest JSON request body `keel server` accepts, in MiB."),
    Setting(
        "server_max_upload_mb",
        int,
        10_240,
        "Largest streamed upload (artifacts, data files) `keel server` accepts, in MiB.",
    ),
    Setting(
        "server_cors_origins",
        str,
        None,
        "Browser origins allowed to call the API, comma-separated; default none (no CORS).",
    ),
    Setting(
        "auth_cache_s",
        float,
        5.0,
        "How long a server trusts a verified token before checking it again, in seconds (at most 5).",
    ),
    Setting(
        "auth_failures_per_minute",
        int,
        20,
        "Failed sign-ins one client may make per minute before the server answers 429.",
    ),
    Setting(
        "credentials_file",
        str,
        None,
        "File `keel login` stores tokens in (user-only, 0600); default ~/.config/keel/credentials.toml.",
    ),
    Setting(
        "hourly_price",
        float,
        None,
        "What this machine costs per hour (any currency); a run's cost is its duration x this.",
    ),
    Setting(
        "instance_type",
        str,
        None,
        "Cloud instance type (e.g. g5.xlarge); its price comes from Keel's table when hourly_price is unset.",
    ),
    Setting(
        "system_metrics_interval_s",
        float,
        10.0,
        "How often runs sample CPU, memory, disk, network and GPU as system/* metrics, in seconds; 0 turns it off.",
    ),
    Setting(
        "run_heartbeat_timeout_s",
        float,
        600.0,
        "A RUNNING run whose processes sent nothing (points or heartbeat, every 30 s) for this long is "
        "marked KILLED, in seconds; 0 never marks one.",
    ),
    Setting(
        "staging_dir",
        str,
        None,
        "Where the SDK stages a server's data objects it hashes or reads; default ~/.cache/keel/staging.",
    ),
    Setting(
        "search_max_terms",
        int,
        200,
        "Most comparisons one run search filter may hold (each value of an `in (...)` list counts as "
        "one); a longer filter is refused (422) before any SQL runs.",
    ),
    Setting(
        "search_max_depth",
        int,
        20,
        "Deepest nesting of parentheses a run search filter may use (at most 100); deeper is refused (422).",
    ),
    Setting(
        "search_max_order_keys",
        int,
        8,
        "Most `order_by` keys one run search may give; more is refused (422).",
    ),
)

BY_NAME: Final = {s.name: s for s in SETTINGS}
CONFIG_FILE: Final = "config.toml"
WORKSPACE_DIR: Final = ".keel"
#: Tables in config.toml that other parts own (named remotes, say); not settings.
CONFIG_TABLES: Final = frozenset({"remotes"})


def coerce_setting(setting: Setting, value: Any, source: str) -> Any:
    if value is None:
        return None
    try:
        if setting.type is bool:
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text in {"1", "true", "yes", "on"}:
                return True
            if text in {"0", "false", "no", "off", ""}:
                return False
            raise ValueError(f"not a boolean: {value!r}")
        if setting.type is int and isinstance(value, bool):
            raise ValueError(f"not an integer: {value!r}")
        return setting.type(value)
    except (TypeError, ValueError) as exc:
        raise ConfigError(
            f"setting {setting.name} from {source} is not a valid {setting.type.__name__}: {value!r}",
            hint=f"fix {source}",
        ) from exc


def find_workspace(start: Path) -> Path | None:
    """Walk up from ``start`` to the first folder holding ``.keel/``, as git finds ``.git``."""
    current = start.resolve()
    for folder in (current, *current.parents):
        candidate = folder / WORKSPACE_DIR
        if candidate.is_dir():
            return candidate
    return None


def read_config_file(path: Path) -> dict[str, Any]:
    """The settings table of a config.toml; raises ConfigError on bad TOML or unknown keys."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from exc
    unknown = [k for k in data if k not in BY_NAME and k not in CONFIG_TABLES]
    if unknown:
        raise ConfigError(
            f"{path} has unknown setting(s): {', '.join(sorted(unknown))}",
            hint="see `keel config show` for the settings Keel knows",
        )
    return data


class SettingValues:
    """Each setting's value as a typed attribute, so mypy checks every read (``settings.server_port: int``).

    The records in :data:`SETTINGS` stay the one declaration of a setting (what
    it means, its default, its variable); this is only its type, as Python's
    type checkers need it spelled out. One line per record: ``name: type``, or
    ``name: type | None`` when its default is None. ``tests/core/test_settings.py``
    fails, naming the line to add, when a record has no line here or the types
    disagree.
    """

    home: str | None
    db_url: str | None
    artifacts_url: str | None
    server_url: str | None
    token: str | None
    project: str
    server_host: str
    server_port: int
    db_busy_timeout_ms: int
    db_synchronous: str
    db_statement_timeout_s: float
    server_trusted_proxies: str | None
    http_timeout_s: float
    http_retries: int
    debug: bool
    server_max_request_mb: int
    server_max_upload_mb: int
    server_cors_origins: str | None
    auth_cache_s: float
    auth_failures_per_minute: int
    credentials_file: str | None
    hourly_price: float | None
    instance_type: str | None
    system_metrics_interval_s: float
    run_heartbeat_timeout_s: float
    staging_dir: str | None
    search_max_terms: int
    search_max_depth: int
    search_max_order_keys: int


@dataclass(frozen=True)
class Settings(SettingValues):
    """Resolved settings, with where each value came from; ``settings.<name>`` reads one, typed."""

    values: Mapping[str, Any]
    sources: Mapping[str, Source]
    config_tables: Mapping[str, Any]

    def __post_init__(self) -> None:
        # Every record's value becomes an attribute (typed by SettingValues), also for a record
        # whose type line is still missing: it reads at run time, and mypy and the test say so.
        for name, value in self.values.items():
            object.__setattr__(self, name, value)

    def require_db_url(self) -> str:
        """The metadata database URL; WorkspaceNotFound (with how to get one) when there is none."""
        if not self.db_url:
            raise WorkspaceNotFound(
                "no Keel workspace here; run `keel init`",
                hint="or set KEEL_DB_URL, KEEL_HOME, or KEEL_SERVER_URL to use a server",
            )
        return self.db_url

    @property
    def home_path(self) -> Path | None:
        home = self.values.get("home")
        return Path(home) if home else None

    def show(self, *, reveal: bool = False) -> list[dict[str, Any]]:
        """Rows for ``keel config show``: name, value, source, env var, help; secrets masked."""
        rows = []
        for s in SETTINGS:
            value = self.values.get(s.name)
            if s.secret and value and not reveal:
                value = "****"
            rows.append(
                {
                    "name": s.name,
                    "value": value,
                    "source": self.sources[s.name],
                    "env": s.env,
                    "help": s.help,
                }
            )
        return rows


def load_settings(
    overrides: Mapping[str, Any] | None = None,
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> Settings:
    """Resolve every setting by precedence flag > env > config.toml > default."""
    overrides = {k: v for k, v in (overrides or {}).items() if v is not None}
    env = os.environ if env is None else env
    for key in overrides:
        if key not in BY_NAME:
            raise ConfigError(f"unknown setting {key!r}")

    values: dict[str, Any] = {}
    sources: dict[str, Source] = {}

    # The workspace decides where config.toml is, so resolve it first.
    home_raw: Any = overrides.get("home") or env.get("KEEL_HOME")
    if home_raw:
        sources["home"] = "flag" if "home" in overrides else "env"
        home: Path | None = Path(home_raw).expanduser().resolve()
    else:
        home = find_workspace(cwd or Path.cwd())
        sources["home"] = "workspace" if home else "default"
    values["home"] = str(home) if home else None

    file_values = read_config_file(home / CONFIG_FILE) if home else {}
    for s in SETTINGS:
        if s.name == "home":
            continue
        if s.name in overrides:
            values[s.name], sources[s.name] = (
                coerce_setting(s, overrides[s.name], "the command line"),
                "flag",
            )
        elif s.env in env and env[s.env] != "":
            values[s.name], sources[s.name] = coerce_setting(s, env[s.env], f"${s.env}"), "env"
        elif s.name in file_values:
            values[s.name] = coerce_setting(s, file_values[s.name], f"{home}/{CONFIG_FILE}")
            sources[s.name] = "config"
        else:
            values[s.name], sources[s.name] = s.default, "default"

    if home is not None:
        if values["db_url"] is None:
            values["db_url"] = f"sqlite:///{home / 'keel.db'}"
        if values["artifacts_url"] is None:
            values["artifacts_url"] = str(home / "objects")
    tables = {k: v for k, v in file_values.items() if k in CONFIG_TABLES}
    return Settings(values=values, sources=sources, config_tables=tables)
