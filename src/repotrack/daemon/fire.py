"""``repodb_amqpfire``: ask the daemon for a load by publishing one message (reference §7.6).

The config file is the original's JSON (``host``, ``port``, ``vhost``, ``exchange``,
``username``, ``password``, ``cacert``, ``known_branches``). The original shells out to
``amqp-publish`` with TLS always on; here the message goes through the AMQP client
library, and TLS is used when ``cacert`` is set (then the file must exist).

``repo`` takes exactly ``<branch> <YYYY-MM-DD>`` with the branch in ``known_branches``
and sends ``{"branch": ..., "date": ...}``; ``watch``, ``repocop`` and ``beehive`` send
``{}``. The routing key is ``<service>.load``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from pydantic import Field, SecretStr

from repotrack.daemon.config import AmqpConfig, StrictModel, read_json_model
from repotrack.errors import ConfigError, InputError, UpstreamError

__all__ = ["FIRE_SERVICES", "FireConfig", "fire", "fire_body", "load_fire_config"]

FIRE_SERVICES = ("repo", "watch", "repocop", "beehive")
DEFAULT_BRANCHES = ("p9", "p10", "sisyphus")


class FireConfig(StrictModel):
    host: str = "localhost"
    port: int = Field(default=5672, ge=1, le=65535)
    vhost: str = "/"
    exchange: str = "repodb-ex"
    username: str = "guest"
    password: SecretStr = SecretStr("guest")
    cacert: str | None = None
    known_branches: tuple[str, ...] = DEFAULT_BRANCHES

    def amqp(self) -> AmqpConfig:
        return AmqpConfig(
            host=self.host,
            port=self.port,
            vhost=self.vhost,
            exchange=self.exchange,
            username=self.username,
            password=self.password,
            cacert=self.cacert,
        )


def load_fire_config(path: Path) -> FireConfig:
    config = read_json_model(FireConfig, path)
    if config.cacert and not Path(config.cacert).is_file():
        raise ConfigError(f"no such file {config.cacert}", source=str(path), key="cacert")
    return config


def fire_body(service: str, params: Sequence[str], config: FireConfig) -> dict[str, str]:
    """The message body for ``service``, or an ``InputError`` naming what is wrong."""
    if service not in FIRE_SERVICES:
        raise InputError(f"must be one of {', '.join(FIRE_SERVICES)}", field="service")
    if service != "repo":
        return {}
    if len(params) != 2:
        raise InputError("repo takes exactly two: <branch> <YYYY-MM-DD>", field="params")
    branch, day = params
    if branch not in config.known_branches:
        known = ", ".join(config.known_branches)
        raise InputError(f"unknown branch {branch!r}; known are {known}", field="params")
    try:
        date.fromisoformat(day)
    except ValueError as exc:
        raise InputError(f"{day!r} is not a date YYYY-MM-DD", field="params") from exc
    return {"branch": branch, "date": day}


def fire(config: FireConfig, service: str, params: Sequence[str]) -> str:
    """Publish the request (confirmed by the broker); returns the routing key used."""
    import pika
    import pika.exceptions

    from repotrack.daemon.consumer import connection_parameters

    body = fire_body(service, params, config)
    key = f"{service}.load"
    amqp = config.amqp()
    where = f"amqp://{amqp.effective_host}:{amqp.port}{amqp.vhost}"
    try:
        connection = pika.BlockingConnection(connection_parameters(amqp, "repodb_amqpfire"))
        try:
            channel = connection.channel()
            channel.confirm_delivery()
            channel.basic_publish(
                config.exchange,
                key,
                json.dumps(body).encode(),
                pika.BasicProperties(content_type="application/json", delivery_mode=2),
                mandatory=True,
            )
        finally:
            connection.close()
    except pika.exceptions.UnroutableError as exc:
        raise UpstreamError(f"{where}: no queue takes {key} on exchange {config.exchange}") from exc
    except (pika.exceptions.AMQPError, OSError) as exc:
        raise UpstreamError(f"{where}: cannot publish ({type(exc).__name__}: {exc})") from exc
    return key
