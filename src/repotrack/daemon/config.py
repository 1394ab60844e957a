"""The daemon's configuration: the original uploaderd's ``config.json`` and ``services.d/*.json``.

Both files are accepted exactly as the original writes them (reference §7.2). The
original builds its settings as a ``NamedTuple`` with ``**``, so a key it does not know
stops it; here too an unknown key is refused, with a ``ConfigError`` naming the file
and the key path (``task_loader.json: amqp.queue.colour: unknown key``), never later
in the middle of a message.

``config.json`` lists the services and where each one's file is (relative to the
service directory) and, optionally, the notifier's broker. Each service file holds
three things: the service's behaviour (flat keys), ``database`` and ``amqp``. The
``database`` section is accepted for compatibility but the store is repotrack's own
(``store_url`` in ``repotrack.toml``): the daemon writes where every other command
writes.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from repotrack.config import DaemonSettings
from repotrack.errors import ConfigError

__all__ = [
    "DEFAULT_CONFIG",
    "DEFAULT_SERVICE_DIR",
    "SERVICE_NAMES",
    "AmqpBinding",
    "AmqpConfig",
    "AmqpQueue",
    "DaemonConfig",
    "DatabaseConfig",
    "NotifierConfig",
    "ServiceConfig",
    "StrictModel",
    "load_daemon_config",
    "load_service_config",
    "native_daemon_config",
    "read_json_model",
    "resolve_daemon_config",
    "validate_model",
]

DEFAULT_CONFIG = Path("/etc/uploaderd/config.json")
DEFAULT_SERVICE_DIR = Path("/etc/uploaderd/services.d")

#: The services the original knows (§7.2); any other name in ``config.json`` is refused.
SERVICE_NAMES = (
    "task_loader",
    "acl_loader",
    "bugzilla_loader",
    "beehive_loader",
    "repocop_loader",
    "watch_loader",
    "repo_loader",
)


M = TypeVar("M", bound=BaseModel)


class StrictModel(BaseModel):
    """A section of an original file: unknown keys refused, as the original does."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class AmqpBinding(StrictModel):
    exchange: str
    routing_key: str


class AmqpQueue(StrictModel):
    name: str
    type: Literal["classic", "quorum", "stream"] = "classic"
    durable: bool = True
    exclusive: bool = False
    auto_delete: bool = False
    bind_at_startup: tuple[AmqpBinding, ...] = ()
    unbind_at_startup: tuple[AmqpBinding, ...] = ()
    #: repotrack's addition: more queue arguments (``x-dead-letter-exchange``...).
    arguments: dict[str, Any] = Field(default_factory=dict)


class AmqpConfig(StrictModel):
    """A broker connection. ``exchange`` is where the service publishes (``uploaded-ex``)."""

    host: str = "localhost"
    port: int = Field(default=5672, ge=1, le=65535)
    vhost: str = "/"
    exchange: str = "amq.topic"
    username: str = "guest"
    password: SecretStr = SecretStr("guest")
    cacert: str | None = None
    key: str | None = None
    cert: str | None = None
    queue: AmqpQueue | None = None

    @property
    def effective_host(self) -> str:
        """The original's examples leave ``host`` empty for the local broker."""
        return self.host or "localhost"


class DatabaseConfig(StrictModel):
    dbname: str = "default"
    host: str = "localhost"
    port: int | None = None
    user: str = "default"
    password: SecretStr = SecretStr("")


class ServiceConfig(StrictModel):
    """One ``services.d/<name>.json``: behaviour keys of every service, then the sections.

    Keys that belong to one service only (``tasks_dir``, ``repo_dirs``, ``base_url``...)
    are accepted on any; the original's services ignore what they do not read.
    """

    workers_count: int = Field(default=1, ge=1)
    publish_on_done: bool = False
    requeue_on_reject: bool = False
    max_redeliver_count: int = Field(default=0, ge=0)
    idle_loop_sleep: float = Field(default=1.0, ge=0.1, le=10.0)
    amqp_batch_size: int = Field(default=1, ge=1, le=100)
    routing_key: str | None = None
    routing_key_pattern: str | None = None
    routing_keys_dict: dict[str, str] = Field(default_factory=dict)
    # task_loader
    tasks_dir: Path = Path("/tasks")
    tasks_archive_dir: Path = Path("/archive/tasks/done")
    # repo_loader
    threads_count: int = Field(default=4, ge=1)
    validate_date: bool = False
    repo_dirs: dict[str, Path] = Field(default_factory=dict)
    # beehive, repocop, watch
    base_url: str | None = None
    url: str | None = None
    archs: tuple[str, ...] = ()
    branches: tuple[str, ...] = ()
    timeout: float | None = None
    database: DatabaseConfig = DatabaseConfig()
    amqp: AmqpConfig = AmqpConfig()

    @property
    def queue(self) -> AmqpQueue:
        if self.amqp.queue is None:  # checked on load; here for the type checker
            raise ConfigError("has no queue", key="amqp.queue")
        return self.amqp.queue


class NotifierConfig(StrictModel):
    amqp: AmqpConfig


class _ServiceEntry(StrictModel):
    name: str
    config: str


class _MainFile(StrictModel):
    services: tuple[_ServiceEntry, ...] = ()
    notifier: NotifierConfig | None = None


class DaemonConfig(BaseModel):
    """Everything ``repotrack daemon`` runs: its services in order, and the notifier."""

    model_config = ConfigDict(frozen=True)

    services: dict[str, ServiceConfig]
    notifier: NotifierConfig | None = None


def load_daemon_config(config: Path, service_dir: Path) -> DaemonConfig:
    """Read ``config.json`` and every service file it names from ``service_dir``."""
    main = read_json_model(_MainFile, config)
    services: dict[str, ServiceConfig] = {}
    for index, entry in enumerate(main.services):
        where = f"services.{index}.name"
        if entry.name not in SERVICE_NAMES:
            raise ConfigError(
                f"unknown service {entry.name!r}; services are {', '.join(SERVICE_NAMES)}",
                source=str(config),
                key=where,
            )
        if entry.name in services:
            raise ConfigError(
                f"service {entry.name} is listed twice", source=str(config), key=where
            )
        services[entry.name] = load_service_config(service_dir / entry.config)
    return DaemonConfig(services=services, notifier=main.notifier)


def load_service_config(path: Path) -> ServiceConfig:
    """Read one ``services.d/<name>.json``; it must name its queue."""
    service = read_json_model(ServiceConfig, path)
    if service.amqp.queue is None:
        raise ConfigError(
            "is required: the queue this service consumes", source=str(path), key="amqp.queue"
        )
    return service


def read_json_model(model: type[M], path: Path) -> M:
    """``path`` as ``model``; any problem is one ``ConfigError`` naming the file and key."""
    try:
        data: Any = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read: {exc.strerror or exc}", source=str(path)) from exc
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"is not valid JSON ({exc})", source=str(path)) from exc
    if not isinstance(data, dict):
        raise ConfigError("must hold a JSON object", source=str(path))
    return validate_model(model, data, str(path))


def validate_model(model: type[M], data: Any, source: str | None, prefix: str = "") -> M:
    """``data`` as ``model``; a problem is one ``ConfigError`` naming ``source`` and the key."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join([prefix, *(str(part) for part in first["loc"])]).strip(".") or None
        message = "unknown key" if first["type"] == "extra_forbidden" else first["msg"]
        raise ConfigError(message, source=source, key=key) from exc


def native_daemon_config(daemon: DaemonSettings, source: str | None) -> DaemonConfig:
    """``[daemon.services.<name>]`` and ``[daemon.notifier]`` of ``repotrack.toml``.

    The same keys as the original's files, checked the same way; errors name
    ``source`` (the settings file) and the key (``daemon.services.task_loader.x``).
    """
    services: dict[str, ServiceConfig] = {}
    for name, body in daemon.services.items():
        where = f"daemon.services.{name}"
        if name not in SERVICE_NAMES:
            raise ConfigError(
                f"unknown service {name!r}; services are {', '.join(SERVICE_NAMES)}",
                source=source,
                key=where,
            )
        service = validate_model(ServiceConfig, body, source, where)
        if service.amqp.queue is None:
            raise ConfigError(
                "is required: the queue this service consumes",
                source=source,
                key=f"{where}.amqp.queue",
            )
        services[name] = service
    notifier = None
    if daemon.notifier is not None:
        notifier = validate_model(NotifierConfig, daemon.notifier, source, "daemon.notifier")
    return DaemonConfig(services=services, notifier=notifier)


def resolve_daemon_config(
    daemon: DaemonSettings,
    source: str | None,
    config: Path | None = None,
    service_dir: Path | None = None,
) -> DaemonConfig:
    """What ``repotrack daemon`` runs, from the command line or ``[daemon]``.

    ``-c``/``-s`` on the command line win; then ``[daemon] services`` (native) or
    ``[daemon] config``/``service_dir`` (the original's files), which exclude each
    other; then the original's default paths.
    """
    if config is not None or service_dir is not None:
        return load_daemon_config(
            config or daemon.config or DEFAULT_CONFIG,
            service_dir or daemon.service_dir or DEFAULT_SERVICE_DIR,
        )
    if daemon.services:
        if daemon.config is not None or daemon.service_dir is not None:
            raise ConfigError(
                "give the services here or name the original's files "
                "(daemon.config, daemon.service_dir), not both",
                source=source,
                key="daemon.services",
            )
        return native_daemon_config(daemon, source)
    if daemon.notifier is not None:
        raise ConfigError(
            "goes with daemon.services; with the original's files, config.json's notifier is used",
            source=source,
            key="daemon.notifier",
        )
    return load_daemon_config(
        daemon.config or DEFAULT_CONFIG, daemon.service_dir or DEFAULT_SERVICE_DIR
    )
