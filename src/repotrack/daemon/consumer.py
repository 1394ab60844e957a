"""One service's link to the broker: its queue, its bindings, and the §7.4 ack rules.

Like the original, a service pulls with ``basic_get`` rather than holding a consumer
open, so a busy loader never has messages prefetched that another worker could take.
A message stays unacked until its loader returns: acked when done (and republished to
``amqp.exchange`` under the same routing key when ``publish_on_done``), rejected with
``requeue_on_reject`` when the loader failed (``x-delivery-count`` bounds the retries),
rejected without requeue when no loader can ever take it (``NotAvailableError``).
A lost connection is not an error of the message: the broker puts unacked messages
back, and the service connects again on its next poll.
"""

from __future__ import annotations

import logging
import ssl
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pika
import pika.exceptions
from pika.adapters.blocking_connection import BlockingChannel

from repotrack import __version__
from repotrack.daemon.config import AmqpConfig, ServiceConfig
from repotrack.daemon.rules import Action, decide
from repotrack.errors import InputError


class NotAvailableError(InputError):
    """The message asks for work repotrack has no loader for (yet)."""


__all__ = ["NotAvailableError", "Outcome", "ServiceConsumer", "connection_parameters"]

log = logging.getLogger(__name__)

#: Errors that mean the link to the broker is gone, not that the message is bad.
LINK_ERRORS = (pika.exceptions.AMQPError, OSError)
RECONNECT_DELAY = 2.0


@dataclass(frozen=True)
class Outcome:
    """What became of one message (the daemon's status and the tests read these)."""

    service: str
    routing_key: str
    action: str  # done, failed, rejected, dropped, left
    reason: str = ""
    body: bytes = b""


#: Runs the work of one message: (routing key, payload) -> summary line.
Work = Callable[[str, Mapping[str, Any]], str]


def connection_parameters(
    amqp: AmqpConfig, client_name: str, connection_name: str = ""
) -> pika.ConnectionParameters:
    """The broker of ``amqp``; TLS when ``cacert`` is set (with an optional client cert)."""
    ssl_options = None
    if amqp.cacert:
        context = ssl.create_default_context(cafile=amqp.cacert)
        if amqp.cert:
            context.load_cert_chain(amqp.cert, amqp.key)
        ssl_options = pika.SSLOptions(context, amqp.effective_host)
    return pika.ConnectionParameters(
        host=amqp.effective_host,
        port=amqp.port,
        virtual_host=amqp.vhost,
        credentials=pika.PlainCredentials(amqp.username, amqp.password.get_secret_value()),
        ssl_options=ssl_options,
        heartbeat=0,
        connection_attempts=1,
        client_properties={
            "product": "repotrack daemon",
            "information": f"repotrack daemon service: {client_name}",
            "version": __version__,
            "connection_name": connection_name or f"repotrack {client_name}",
        },
    )


class ServiceConsumer:
    """Polls one service's queue and settles each message by the rules."""

    def __init__(
        self,
        name: str,
        config: ServiceConfig,
        work: Work | None,
        *,
        on_outcome: Callable[[Outcome], None] | None = None,
        on_start: Callable[[], None] | None = None,
        on_link_lost: Callable[[str], None] | None = None,
    ) -> None:
        self.name = name
        self._on_start = on_start
        self._on_link_lost = on_link_lost
        self._down = False  # an outage is reported once, not at every retry
        self.config = config
        self._work = work
        self._on_outcome = on_outcome
        self._connection: pika.BlockingConnection | None = None
        self._channel: BlockingChannel | None = None
        self._declared_exchange = False
        self._retry_at = 0.0
        self.in_flight: str | None = None

    # -- connection ----------------------------------------------------------------------
    def connect(self) -> BlockingChannel:
        """Declare the queue (durable, ``x-queue-type``) and its bindings; confirm publishes."""
        if self._channel is not None and self._channel.is_open:
            return self._channel
        self.close()
        params = connection_parameters(
            self.config.amqp, self.name, f"repotrack {self.name} {self.config.queue.name}"
        )
        self._connection = pika.BlockingConnection(params)
        channel = self._connection.channel()
        channel.confirm_delivery()
        queue = self.config.queue
        arguments: dict[str, Any] = {"x-queue-type": queue.type, **queue.arguments}
        channel.queue_declare(
            queue.name,
            durable=queue.durable,
            exclusive=queue.exclusive,
            auto_delete=queue.auto_delete,
            arguments=arguments,
        )
        for binding in queue.bind_at_startup:
            if not binding.exchange.startswith("amq."):  # a fresh broker has none of ours
                channel.exchange_declare(binding.exchange, exchange_type="topic", durable=True)
            channel.queue_bind(queue.name, binding.exchange, routing_key=binding.routing_key)
        for binding in queue.unbind_at_startup:
            channel.queue_unbind(queue.name, binding.exchange, routing_key=binding.routing_key)
        self._channel = channel
        self._declared_exchange = False
        self._down = False
        log.info("service connected", extra={"service": self.name, "queue": queue.name})
        return channel

    @property
    def connected(self) -> bool:
        return self._channel is not None and self._channel.is_open

    def close(self) -> None:
        """Close the link; unacked messages (one left without ``taskid``) go back."""
        connection, self._connection, self._channel = self._connection, None, None
        if connection is not None and connection.is_open:
            try:
                connection.close()
            except LINK_ERRORS:
                log.debug("closing a broken connection", exc_info=True)

    def try_connect(self) -> bool:
        """``connect``, with a broker that does not answer handled as a lost link."""
        try:
            self.connect()
        except LINK_ERRORS as exc:
            self._link_lost(exc)
            return False
        return True

    def _link_lost(self, exc: BaseException) -> None:
        reason = f"{type(exc).__name__}: {exc}"
        log.warning("%s: broker link lost (%s); retrying", self.name, reason)
        self.close()
        self._retry_at = time.monotonic() + RECONNECT_DELAY
        if not self._down and self._on_link_lost is not None:
            self._on_link_lost(reason)
        self._down = True

    # -- one message ---------------------------------------------------------------------
    def poll(self) -> bool:
        """Take and settle one message; False when the queue was empty or the broker away."""
        if time.monotonic() < self._retry_at:
            return False
        try:
            channel = self.connect()
            method, properties, body = channel.basic_get(self.config.queue.name)
            if method is None:
                return False
            self._settle(channel, method, properties, body)
            return True
        except LINK_ERRORS as exc:
            self._link_lost(exc)
            return False

    def _settle(
        self,
        channel: BlockingChannel,
        method: Any,
        properties: pika.BasicProperties,
        body: bytes,
    ) -> None:
        key = str(method.routing_key)
        tag = method.delivery_tag
        decision = decide(self.name, self.config, key, properties.headers, body)
        if decision.action is Action.REJECT:
            channel.basic_reject(tag, requeue=False)
            return self._report(key, "rejected", decision.reason, body)
        if decision.action is Action.DROP:
            channel.basic_ack(tag)
            return self._report(key, "dropped", decision.reason, body)
        if decision.action is Action.LEAVE:
            log.warning(
                "message left unacked", extra={"service": self.name, "reason": decision.reason}
            )
            return self._report(key, "left", decision.reason, body)
        if self._work is None:
            channel.basic_reject(tag, requeue=False)
            return self._report(key, "rejected", f"{self.name}: loader not available", body)
        self.in_flight = key
        if self._on_start is not None:
            self._on_start()
        try:
            summary = self._work(key, decision.payload)
        except NotAvailableError as exc:  # no loader will ever take it: dead-letter
            channel.basic_reject(tag, requeue=False)
            return self._report(key, "rejected", f"{type(exc).__name__}: {exc}", body)
        except Exception as exc:  # the original's FAILED, bad input included (bounded retries)
            log.exception("loader failed", extra={"service": self.name})
            channel.basic_reject(tag, requeue=self.config.requeue_on_reject)
            return self._report(key, "failed", f"{type(exc).__name__}: {exc}", body)
        finally:
            self.in_flight = None
        if self.config.publish_on_done:
            self._publish(channel, key, properties, body)
        channel.basic_ack(tag)
        return self._report(key, "done", summary, body)

    def _publish(
        self, channel: BlockingChannel, key: str, properties: pika.BasicProperties, body: bytes
    ) -> None:
        exchange = self.config.amqp.exchange
        if not self._declared_exchange and not exchange.startswith("amq."):
            channel.exchange_declare(exchange, exchange_type="topic", durable=True)
            self._declared_exchange = True
        channel.basic_publish(exchange, key, body, properties)

    def _report(self, key: str, action: str, reason: str, body: bytes) -> None:
        log.info("%s %s: %s %s", self.name, key, action, reason)
        if self._on_outcome is not None:
            self._on_outcome(Outcome(self.name, key, action, reason, body))
