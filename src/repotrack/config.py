"""One typed settings object for the whole of repotrack.

Where settings come from, highest priority first:

1. environment variables ``REPOTRACK_<SECTION>__<KEY>`` (``REPOTRACK_SERVICE__LISTEN``);
2. the TOML file named by ``--config``, ``$REPOTRACK_CONFIG``, ``./repotrack.toml`` or
   ``/etc/repotrack/repotrack.toml`` (the first that exists);
3. defaults, which need no file at all: everything then lives under ``$REPOTRACK_HOME``
   or the user data directory.

Settings are built at the entry point (``load_settings``) and passed down; nothing
reads configuration at import time. Secrets are ``SecretStr`` and may be given as
``*_file`` paths instead, which must not be readable by group or others.
"""

from __future__ import annotations

import ipaddress
import os
import stat
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from repotrack.config_env import deep_merge, env_values
from repotrack.errors import ConfigError
from repotrack.url_paths import url_path

__all__ = [
    "DEFAULT_LISTEN",
    "FEED_NAMES",
    "FeedsSettings",
    "ForgeSettings",
    "Listen",
    "LoadsSettings",
    "Settings",
    "config_file_candidates",
    "load_settings",
    "parse_listen",
    "read_secret",
]

DEFAULT_LISTEN = "127.0.0.1:5001"
DEFAULT_SCAN_INTERVAL = 3600
ENV_PREFIX = "REPOTRACK_"


class Listen(BaseModel):
    """A parsed ``host:port``; ``host`` is an IP literal or a host name, IPv6 without brackets."""

    host: str
    port: int

    @property
    def is_loopback(self) -> bool:
        if self.host == "localhost":
            return True
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return False

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"


def parse_listen(value: str) -> Listen:
    """Parse ``LISTEN``: ``1.2.3.4:5001``, ``[::1]:5001`` or ``host.example:5001``.

    The original accepted IPv4 literals only; IPv6 (bracketed) and host names are
    accepted here too.
    """
    text = value.strip()
    if text.startswith("["):
        end = text.find("]")
        if end < 0 or text[end + 1 : end + 2] != ":":
            raise ConfigError(f"expected [IPv6]:port, got {value!r}", key="listen")
        host, port_text = text[1:end], text[end + 2 :]
        try:
            ipaddress.IPv6Address(host)
        except ValueError as exc:
            raise ConfigError(f"bad IPv6 address {host!r}", key="listen") from exc
    else:
        host, sep, port_text = text.rpartition(":")
        if not sep or not host or ":" in host:
            raise ConfigError(f"expected host:port, got {value!r}", key="listen")
        if not _is_hostname(host):
            raise ConfigError(f"bad host {host!r}", key="listen")
    if not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
        raise ConfigError(f"port must be 1-65535, got {port_text!r}", key="listen")
    return Listen(host=host, port=int(port_text))


def _is_hostname(host: str) -> bool:
    if all(part.isdigit() for part in host.split(".")) and host.count(".") == 3:
        try:
            ipaddress.IPv4Address(host)
        except ValueError:
            return False
        return True
    labels = host.rstrip(".").split(".")
    return all(
        0 < len(label) <= 63
        and label.replace("-", "").isalnum()
        and label.isascii()
        and not label.startswith("-")
        and not label.endswith("-")
        for label in labels
    )


def read_secret(path: Path, *, key: str) -> SecretStr:
    """Read a secret from a file that only its owner may read.

    A secret file readable by group or others is refused rather than trusted, so a
    mistake in deployment shows up at start-up, not in an audit.
    """
    try:
        info = path.stat()
    except OSError as exc:
        raise ConfigError(f"cannot read secret file {path}: {exc.strerror}", key=key) from exc
    if info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(
            f"secret file {path} is accessible by group or others; chmod 600 it", key=key
        )
    return SecretStr(path.read_text(encoding="utf-8").strip())


def _default_home() -> Path:
    env = os.environ.get("REPOTRACK_HOME")
    if env:
        return Path(env)
    import platformdirs  # here: a command run with REPOTRACK_HOME does without it

    return Path(platformdirs.user_data_dir("repotrack"))


class _Section(BaseModel):
    """A settings table: a key it does not define is an error, never silently ignored."""

    model_config = ConfigDict(extra="forbid")


class ServiceSettings(_Section):
    """The REST service: where it listens, TLS, and the single admin account."""

    listen: str = DEFAULT_LISTEN
    certfile: Path | None = None
    keyfile: Path | None = None
    user: str = "admin"
    #: Werkzeug-style hash (``pbkdf2:sha256:N$salt$hex`` or ``scrypt:...``) of the password.
    password_hash: SecretStr | None = None
    password_hash_file: Path | None = None
    #: The original serves GET routes without auth; set this to require auth for reads too.
    require_auth_for_reads: bool = False
    #: Failed logins allowed per client address, and per user name, within the window;
    #: beyond that, 429 with Retry-After until the oldest failure leaves the window.
    max_failed_logins: int = Field(default=10, ge=1)
    failed_login_window: float = Field(default=60.0, gt=0)
    #: Threads that verify passwords (pbkdf2 is CPU-bound; reads must not starve).
    login_hash_workers: int = Field(default=1, ge=1, le=8)

    @field_validator("listen")
    @classmethod
    def _check_listen(cls, value: str) -> str:
        parse_listen(value)
        return value

    @field_validator("user")
    @classmethod
    def _check_user(cls, value: str) -> str:
        if not value or len(value) > 32:
            raise ValueError("user must be 1 to 32 characters")
        return value

    @property
    def listen_address(self) -> Listen:
        return parse_listen(self.listen)

    def resolved_password_hash(self) -> SecretStr | None:
        if self.password_hash_file is not None:
            return read_secret(self.password_hash_file, key="service.password_hash_file")
        return self.password_hash


class StateSettings(_Section):
    """The state database (tracking items, issues, runs): a SQLAlchemy URL."""

    url: str | None = None


class StoreSettings(_Section):
    """The analytics store: ``chdb:///path`` (default) or ``clickhouse://user:pw@host:8123/db``."""

    url: str | None = None
    password_file: Path | None = None


class QueueSettings(_Section):
    """The job queue: ``memory://`` (in-process) or ``amqp://...``."""

    url: str = "memory://"


class DaemonSettings(_Section):
    """``repotrack daemon``: the original's files, or the same said here (``services``).

    ``services`` maps a service name to what its ``services.d/<name>.json`` holds, and
    ``notifier`` is ``config.json``'s notifier; the daemon checks both when it starts,
    refusing unknown keys as it does in the original's files.
    """

    config: Path | None = None
    service_dir: Path | None = None
    services: dict[str, dict[str, Any]] = Field(default_factory=dict)
    notifier: dict[str, Any] | None = None


class ForgeSettings(_Section):
    """One downstream forge: its kind, where it lives, and its credentials.

    Forges are configured as ``[forges.<name>]``; ``kind`` defaults to the name, so
    ``[forges.gitee]`` is a Gitee. ``web_url`` is the host prefix of repository URLs
    (``https://gitee.com``) used to tell which forge a downstream ``repo`` belongs to.
    """

    kind: Literal["gitee", "github", "gitlab", "gitea"] | None = None
    web_url: str | None = None
    token: SecretStr | None = None
    token_file: Path | None = None
    api_url: str | None = None
    #: User name for git pushes over HTTPS (some forges want a specific one).
    username: str | None = None
    #: Fork mode: push to the token owner's fork (created if missing) and open pull
    #: requests from ``fork:branch``, for repositories the token may not push to.
    fork: bool = False
    #: Fork mode for these repositories only (``owner/name`` shell patterns such as
    #: ``src-openeuler/*``): push rights belong to a repository, so this is per item.
    fork_repos: list[str] = Field(default_factory=list)

    def resolved_token(self, name: str) -> SecretStr | None:
        if self.token_file is not None:
            return read_secret(self.token_file, key=f"forges.{name}.token_file")
        return self.token


class TrackingSettings(_Section):
    """The patch-tracking scheduler and upstream access."""

    scan_interval: int = Field(default=DEFAULT_SCAN_INTERVAL, gt=0)
    #: ``file://`` and plain local paths as upstreams (tests, local mirrors).
    allow_local_upstreams: bool = False
    github_base_url: str = "https://github.com"
    #: The forge of a downstream ``repo`` given as bare ``owner/name`` (the original: Gitee).
    default_forge: str = "gitee"
    max_parallel_fetches: int = Field(default=4, gt=0)
    git_timeout: float = Field(default=300.0, gt=0)
    #: Upstream hosts, addresses or networks let in although private or loopback.
    upstream_allow_hosts: list[str] = Field(default_factory=list)
    #: Upstream hosts, addresses or networks always refused.
    upstream_deny_hosts: list[str] = Field(default_factory=list)
    #: Largest upstream mirror on disk; a fetch beyond it is stopped and refused.
    max_mirror_bytes: int = Field(default=8 * 1024**3, gt=0)
    http_timeout: float = Field(default=30.0, gt=0)
    max_retries: int = Field(default=4, ge=0)


#: The enrichment feeds, in the order the scheduler and ``feeds status`` list them.
FEED_NAMES: tuple[str, ...] = ("acl", "beehive", "bugzilla", "repocop", "watch", "spdx", "repology")


class FeedsSettings(BaseModel):
    """The enrichment feeds (``[feeds]``): where each is read from, HTTP limits, schedule.

    The URLs default to ALT's public services (reference/altrepo.md §5). ``interval``
    maps a feed name to seconds between scheduled runs inside ``repotrack serve``; a
    feed that is absent (or 0) is not scheduled. ``source_timezone`` is the zone of the
    times that ALT's listings and Bugzilla's export print without one.
    """

    acl_url: str = "http://git.altlinux.org/acl"
    beehive_url: str = "https://git.altlinux.org/beehive"
    beehive_branches: list[str] = Field(default_factory=lambda: ["Sisyphus", "p10", "p9"])
    beehive_arches: list[str] = Field(default_factory=lambda: ["i586", "x86_64"])
    bugzilla_url: str = "https://bugzilla.altlinux.org/buglist.cgi"
    repocop_url: str = (
        "http://repocop.altlinux.org/pub/repocop/prometheus3/packages.altlinux-sisyphus.json.bz2"
    )
    watch_url: str = "https://watch.altlinux.org/pub/watch/watch-total.txt"
    spdx_git_url: str = "https://github.com/spdx/license-list-data"
    spdx_git_root: Path | None = None
    repology_url: str = "https://repology.org/api/v1/projects/"
    repology_repos: list[str] = Field(default_factory=lambda: ["alt_sisyphus", "alt_p10"])
    source_timezone: str = "UTC"
    timeout: float = Field(default=60.0, gt=0)
    max_retries: int = Field(default=3, ge=0)
    #: First wait between retries in seconds; it doubles on each retry (at most 60 s).
    retry_wait: float = Field(default=2.0, ge=0)
    max_bytes: int = Field(default=512 * 1024 * 1024, gt=0)
    interval: dict[str, int] = Field(default_factory=dict)

    @field_validator("interval")
    @classmethod
    def _check_interval(cls, value: dict[str, int]) -> dict[str, int]:
        for name, seconds in value.items():
            if name not in FEED_NAMES:
                raise ValueError(f"unknown feed {name!r}; feeds are {', '.join(FEED_NAMES)}")
            if seconds < 0:
                raise ValueError(f"interval of {name} must not be negative")
        return value


class LoadsSettings(BaseModel):
    """Loads handed to the service (``POST /api/v1/loads``).

    ``allowed_roots``: the only directories the service reads loads from (none by
    default: the API loads nothing until an administrator names them; the local CLI
    is not limited). ``job_timeout``: seconds a job may run before it is stopped.
    """

    allowed_roots: list[Path] = Field(default_factory=list)
    job_timeout: float = Field(default=6 * 3600.0, gt=0)


class VulnSettings(BaseModel):
    """Vulnerability matching: rpm's version order per branch (``rpm`` = librpm, ``alt`` = ALT)."""

    default_order: Literal["rpm", "alt"] = "rpm"
    branch_orders: dict[str, Literal["rpm", "alt"]] = Field(default_factory=dict)
    #: OSV ecosystem per branch for exports (OSV accepts registered ecosystems only).
    osv_ecosystems: dict[str, str] = Field(default_factory=dict)
    osv_id_prefix: str = "x_repotrack"
    csaf_publisher: str = "repotrack"
    csaf_namespace: str = "https://repotrack.invalid"
    #: The purl namespace of the exports' packages: the distribution's vendor id, as
    #: os-release's ``ID`` names it and SBOM tools write it (``altlinux``, ``openeuler``,
    #: ``fedora``); the branch becomes the ``distro`` qualifier.
    purl_vendor: str = Field(default="altlinux", pattern=r"^[a-z0-9][a-z0-9._+-]*$")
    oval_namespace: str = "io.repotrack"
    #: The package whose presence says "this branch" in OVAL criteria.
    oval_release_package: str = "alt-release"
    #: NVD API key (``apiKey`` header of NVD API requests: 50 requests in 30 s instead
    #: of 5), or a file holding it that only its owner may read.
    nvd_api_key: SecretStr | None = None
    nvd_api_key_file: Path | None = None

    @field_validator("branch_orders", "osv_ecosystems", mode="before")
    @classmethod
    def _branches_as_stored(cls, value: Any) -> Any:
        """Keys as the store names branches (stripped, lowercased: ``P10`` is ``p10``),
        so that ``branch_orders = { P10 = "alt" }`` is not silently ALT's order for no
        branch. Two keys naming one branch are an error."""
        if not isinstance(value, dict):
            return value
        keyed: dict[str, Any] = {}
        for key, item in value.items():
            name = str(key).strip().lower()
            if name in keyed:
                raise ValueError(f"branch {name} is named twice ({key!r})")
            keyed[name] = item
        return keyed

    def order(self, branch: str) -> str:
        """The version order of ``branch`` (any case)."""
        return self.branch_orders.get(branch.strip().lower(), self.default_order)

    def ecosystem(self, branch: str) -> str:
        """The OSV ecosystem of ``branch`` (any case), or ""."""
        return self.osv_ecosystems.get(branch.strip().lower(), "")

    def resolved_nvd_api_key(self) -> str:
        """The NVD API key, or "" when none is set."""
        if self.nvd_api_key_file is not None:
            secret = read_secret(self.nvd_api_key_file, key="vulns.nvd_api_key_file")
            return secret.get_secret_value()
        return self.nvd_api_key.get_secret_value() if self.nvd_api_key else ""


class Settings(BaseModel):
    """Every setting of repotrack; see the README's configuration reference.

    A plain model: ``load_settings`` merges the file and the environment
    (``config_env``) into the values it validates. Built directly (tests, embedding),
    it takes exactly the values given.
    """

    model_config = ConfigDict(extra="forbid", validate_default=True)

    home: Path = Field(default_factory=_default_home, validate_default=True)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    service: ServiceSettings = ServiceSettings()
    state: StateSettings = StateSettings()
    store: StoreSettings = StoreSettings()
    queue: QueueSettings = QueueSettings()
    daemon: DaemonSettings = DaemonSettings()
    tracking: TrackingSettings = TrackingSettings()
    loads: LoadsSettings = LoadsSettings()
    vulns: VulnSettings = VulnSettings()
    forges: dict[str, ForgeSettings] = Field(default_factory=dict)
    feeds: FeedsSettings = FeedsSettings()

    @field_validator("home")
    @classmethod
    def _check_home(cls, value: Path) -> Path:
        if value.exists() and not value.is_dir():
            raise ValueError(f"{value} is not a directory (from home or $REPOTRACK_HOME)")
        return value

    # Set by load_settings; not a setting a user gives.
    _config_file: Path | None = None

    @property
    def config_file(self) -> Path | None:
        return self._config_file

    # The home's path is escaped in the default URLs (``url_path``).

    @property
    def state_url(self) -> str:
        return self.state.url or f"sqlite:///{url_path(self.home / 'state.sqlite')}"

    @property
    def store_url(self) -> str:
        return self.store.url or f"chdb://{url_path(self.home / 'store')}"

    @property
    def git_cache_dir(self) -> Path:
        return self.home / "git"

    def forge(self, name: str) -> ForgeSettings:
        return self.forges.get(name, ForgeSettings())

    def redacted(self) -> dict[str, Any]:
        """The settings as plain data with every secret replaced by ``"********"``."""
        redacted: dict[str, Any] = _redact(self.model_dump(mode="json"))
        return redacted


_SECRET_KEYS = ("token", "password", "password_hash", "secret", "nvd_api_key")


def _redact(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            key: ("********" if key in _SECRET_KEYS and item else _redact(item))
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_redact(item) for item in value]
    if isinstance(value, str) and "://" in value and "@" in value:
        return _redact_url(value)
    return value


def _redact_url(url: str) -> str:
    scheme, rest = url.split("://", 1)
    userinfo, at, hostpart = rest.rpartition("@")
    if not at or ":" not in userinfo:
        return url
    user = userinfo.split(":", 1)[0]
    return f"{scheme}://{user}:********@{hostpart}"


def config_file_candidates(explicit: Path | None = None) -> list[Path]:
    """Where a settings file is looked for, in order."""
    if explicit is not None:
        return [explicit]
    env = os.environ.get("REPOTRACK_CONFIG")
    if env:
        return [Path(env)]
    return [Path.cwd() / "repotrack.toml", Path("/etc/repotrack/repotrack.toml")]


def load_settings(config: Path | None = None, **overrides: Any) -> Settings:
    """Build the settings from file, environment and ``overrides`` (keyword per top-level key).

    A named file that does not exist, a malformed TOML file or an invalid value is a
    ``ConfigError`` naming the file and key: never silently replaced by defaults.
    """
    candidates = config_file_candidates(config)
    explicit = config is not None or bool(os.environ.get("REPOTRACK_CONFIG"))
    path = next((p for p in candidates if p.is_file()), None)
    if path is None and explicit:
        raise ConfigError("configuration file not found", source=str(candidates[0]))
    file_data: dict[str, Any] = {}
    if path is not None:
        import tomllib  # here: its import compiles regular expressions, 0.01 s without a file

        try:
            file_data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"malformed TOML: {exc}", source=str(path)) from exc
    try:
        values = deep_merge(file_data, env_values(Settings, ENV_PREFIX), overrides)
        settings = Settings.model_validate(values)
    except ValidationError as exc:
        raise ConfigError(_validation_message(exc), source=str(path) if path else None) from exc
    except ConfigError as exc:
        raise ConfigError(str(exc), source=str(path) if path else None) from exc
    settings._config_file = path
    return settings


def _validation_message(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors():
        loc = ".".join(str(p) for p in error["loc"])
        if error["type"] == "extra_forbidden":
            parts.append(f"unknown key {loc!r}")
        else:
            parts.append(f"{loc}: {error['msg'].removeprefix('Value error, ')}")
    return "; ".join(parts)
