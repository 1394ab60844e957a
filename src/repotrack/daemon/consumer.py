"""One service's link to the broker: its queue, its bindings, and the §7.4 ack rules.

Like the original, a service pulls with ``basic_get`` rather than holding a consumer
open, so a busy loader never has messages prefetched that another worker could take.
A message stays unacked until its loader returns: acked when done (and republished to
``amqp.exchange`` under the same routing key when ``publish_on_done``), rejected with
``requeue_on_reject`` when the loader failed (``x-delivery-count`` bounds the retries),
rejected without requeue when no loader can ever take it (``NotAvailableError``).
A lost connection is not an error of the message: the broker puts unacked messages
back, and the service connects again on its next poll.

A request the broker never answers counts as a lost link too. Under heavy disk load,
RabbitMQ 3.10's quorum queues were seen to drop a ``basic.get`` (the channel waited
on the queue's Raft leader for good, with the queue empty and idle), and pika waits
for a reply with no time limit, so one stuck request would hold its service forever.
Each ``basic.get`` and each confirmed publish therefore has ``REPLY_TIMEOUT`` seconds
to be answered; past that the connection is dropped and made again.
"""

from __future__ import annotations

import logging
import ssl
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pika
import pika.exceptions
from pika.adapters.blocking_connection import BlockingChannel

from repotrack import __version__
from repotrack.daemon.config import AmqpConfig, ServiceConfig
from repotrack.daemon.rules import Action, Decision, decide
from repotrack.errors import InputError


class NotAvailableError(InputError):
    """The message asks for work repotrack has no loader for (yet)."""


__all__ = [
    "BatchWork",
    "NotAvailableError",
    "Outcome",
    "ServiceConsumer",
    "connection_parameters",
]

log = logging.getLogger(__name__)

#: Errors that mean the link to the broker is gone, not that the message is bad.
LINK_ERRORS = (pika.exceptions.AMQPError, OSError)
RECONNECT_DELAY = 2.0
#: Seconds the broker has to answer a ``basic.get`` or confirm a publish (see above).
REPLY_TIMEOUT = 30.0


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
#: What a loader returned: its summary line, or the exception it raised.
_Result = tuple[str, Exception | None]
#: Runs the work of several messages in one call: one result per message, in order.
BatchWork = Callable[[Sequence[tuple[str, Mapping[str, Any]]]], Sequence[_Result]]


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
        on_finished: Callable[[], None] | None = None,
        batch_work: BatchWork | None = None,
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
        self._on_finished = on_finished
        self._batch_work = batch_work
        #: Messages whose loaders run (or have returned and wait to be settled).
        self._running: list[_Delivery] = []
        self._pool: ThreadPoolExecutor | None = None

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

    # -- messages ------------------------------------------------------------------------
    def poll(self) -> bool:
        """Settle finished work, then take a batch if a worker is free; False when idle.

        A poll takes up to ``amqp_batch_size`` messages. With ``workers_count`` 1 their
        loaders run here, one after the other, each settled when it returns. With more,
        they run on ``workers_count`` threads and are settled (acked, rejected,
        republished: always on this thread, which owns the channel) at the next polls;
        a batch is taken only while fewer than ``workers_count`` loaders run.
        """
        if time.monotonic() < self._retry_at:
            return False
        try:
            channel = self.connect()
            busy = self._settle_finished(channel)
            if len(self._running) >= self.config.workers_count:
                return busy
            batch = []
            for _ in range(self.config.amqp_batch_size):
                with self._reply_deadline("basic.get"):
                    method, properties, body = channel.basic_get(self.config.queue.name)
                if method is None:
                    break
                batch.append(_Delivery(channel, method, properties, body))
            if len(batch) > 1 and self.config.workers_count == 1:
                self._take_batch(batch)
            else:
                for delivery in batch:
                    self._take(delivery)
            return busy or bool(batch)
        except LINK_ERRORS as exc:
            self._link_lost(exc)
            return False

    @property
    def in_flight(self) -> str | None:
        """The routing keys of the messages whose loaders run now, or None."""
        keys = [d.key for d in self._running]
        return ", ".join(keys) if keys else None

    @property
    def running(self) -> int:
        return len(self._running)

    def drain(self) -> None:
        """Wait for every running loader and settle its message (before closing)."""
        while self._running:
            wait([d.future for d in self._running if d.future is not None], timeout=1.0)
            try:
                channel = self._channel
                if channel is None or not channel.is_open:
                    raise pika.exceptions.ChannelClosed(0, "closed while loaders ran")
                self._settle_finished(channel)
            except LINK_ERRORS as exc:
                self._link_lost(exc)
                self._running = [d for d in self._running if not d.done]
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None

    def _take(self, delivery: _Delivery) -> None:
        """Settle by the rules, or start the loader (inline, or on a worker thread)."""
        decision = decide(
            self.name, self.config, delivery.key, delivery.properties.headers, delivery.body
        )
        if decision.action is not Action.WORK:
            return self._settle_decision(delivery, decision)
        channel, key, tag, body = delivery.channel, delivery.key, delivery.tag, delivery.body
        work = self._work
        if work is None:
            channel.basic_reject(tag, requeue=False)
            return self._report(key, "rejected", f"{self.name}: loader not available", body)
        self._running.append(delivery)
        if self._on_start is not None:
            self._on_start()
        if self.config.workers_count == 1:
            delivery.result = _run(work, key, decision.payload)
            self._settle_finished(channel)
            return None
        if self._pool is None:
            self._pool = ThreadPoolExecutor(
                self.config.workers_count, thread_name_prefix=f"repotrack-{self.name}"
            )
        delivery.future = self._pool.submit(_run, work, key, decision.payload)
        if self._on_finished is not None:
            delivery.future.add_done_callback(lambda _f: self._on_finished())  # type: ignore[misc]
        return None

    def _settle_decision(self, delivery: _Delivery, decision: Decision) -> None:
        """A message no loader runs for: rejected, dropped or left, by the rules."""
        channel, key, tag, body = delivery.channel, delivery.key, delivery.tag, delivery.body
        if decision.action is Action.REJECT:
            channel.basic_reject(tag, requeue=False)
            return self._report(key, "rejected", decision.reason, body)
        if decision.action is Action.DROP:
            channel.basic_ack(tag)
            return self._report(key, "dropped", decision.reason, body)
        log.warning("message left unacked", extra={"service": self.name, "reason": decision.reason})
        return self._report(key, "left", decision.reason, body)

    def _take_batch(self, batch: list[_Delivery]) -> None:
        """A batch through the service's batch loader, in one call; settled in order.

        Used with ``workers_count`` 1 when the service has a batch loader (the task
        service loads several task directories in one pass, as the original's batched
        task service does). Each message still gets its own outcome.
        """
        decided = [
            (d, decide(self.name, self.config, d.key, d.properties.headers, d.body)) for d in batch
        ]
        work = [(d, dec) for d, dec in decided if dec.action is Action.WORK]
        if self._work is None or self._batch_work is None or len(work) < 2:
            for delivery in batch:
                self._take(delivery)
            return
        self._running.extend(d for d, _ in work)
        if self._on_start is not None:
            self._on_start()
        try:
            results = list(self._batch_work([(d.key, dec.payload) for d, dec in work]))
        except Exception as exc:  # each message then fails with it (bounded retries)
            results = [("", exc)] * len(work)
        for (delivery, _), result in zip(work, results, strict=True):
            delivery.result = result
        for delivery, decision in decided:
            if decision.action is Action.WORK:
                self._running.remove(delivery)
                self._settle(delivery)
            else:
                self._settle_decision(delivery, decision)

    def _settle_finished(self, channel: BlockingChannel) -> bool:
        """Ack or reject every message whose loader has returned; True if any."""
        settled = False
        while True:
            finished = next((d for d in self._running if d.done), None)
            if finished is None:
                return settled
            self._running.remove(finished)
            settled = True
            if finished.channel is not channel:  # taken on a link since lost
                log.warning("%s %s: done on a lost link; redelivered", self.name, finished.key)
                continue
            self._settle(finished)

    def _settle(self, delivery: _Delivery) -> None:
        channel, key, tag, body = delivery.channel, delivery.key, delivery.tag, delivery.body
        summary, error = delivery.outcome()
        if isinstance(error, NotAvailableError):  # no loader will ever take it: dead-letter
            channel.basic_reject(tag, requeue=False)
            return self._report(key, "rejected", f"{type(error).__name__}: {error}", body)
        if error is not None:  # the original's FAILED, bad input included (bounded retries)
            log.error("loader failed", exc_info=error, extra={"service": self.name})
            channel.basic_reject(tag, requeue=self.config.requeue_on_reject)
            return self._report(key, "failed", f"{type(error).__name__}: {error}", body)
        if self.config.publish_on_done:
            self._publish(channel, key, delivery.properties, body)
        channel.basic_ack(tag)
        return self._report(key, "done", summary, body)

    def _publish(
        self, channel: BlockingChannel, key: str, properties: pika.BasicProperties, body: bytes
    ) -> None:
        exchange = self.config.amqp.exchange
        if not self._declared_exchange and not exchange.startswith("amq."):
            channel.exchange_declare(exchange, exchange_type="topic", durable=True)
            self._declared_exchange = True
        with self._reply_deadline("publish"):
            channel.basic_publish(exchange, key, body, properties)

    @contextmanager
    def _reply_deadline(self, what: str) -> Iterator[None]:
        """Drop the connection if the broker has not answered within ``REPLY_TIMEOUT``.

        pika's blocking calls wait without a limit; the timer runs inside that wait (on
        this thread, in the connection's I/O loop) and ends the stream the way pika's
        heartbeat checker does, so the call raises ``StreamLostError``, handled as any
        lost link.
        """
        connection = self._connection
        if connection is None:
            yield
            return
        impl = connection._impl  # pika has no public per-request deadline

        def abandon() -> None:
            reason = f"the broker did not answer {what} in {REPLY_TIMEOUT:g} s"
            log.warning("%s: %s; dropping the link", self.name, reason)
            # as pika's own heartbeat checker ends a silent link
            impl._terminate_stream(pika.exceptions.StreamLostError(reason))

        timer = impl.ioloop.call_later(REPLY_TIMEOUT, abandon)
        try:
            yield
        finally:
            impl.ioloop.remove_timeout(timer)

    def _report(self, key: str, action: str, reason: str, body: bytes) -> None:
        log.info("%s %s: %s %s", self.name, key, action, reason)
        if self._on_outcome is not None:
            self._on_outcome(Outcome(self.name, key, action, reason, body))


def _run(work: Work, key: str, payload: Mapping[str, Any]) -> _Result:
    try:
        return work(key, payload), None
    except Exception as exc:  # settled by the consumer's thread; see ``_settle``
        return "", exc


@dataclass
class _Delivery:
    """A message taken from the queue and not yet settled."""

    channel: BlockingChannel
    method: Any
    properties: pika.BasicProperties
    body: bytes
    result: _Result | None = None
    future: Future[_Result] | None = None

    @property
    def key(self) -> str:
        return str(self.method.routing_key)

    @property
    def tag(self) -> int:
        return int(self.method.delivery_tag)

    @property
    def done(self) -> bool:
        return self.result is not None or (self.future is not None and self.future.done())

    def outcome(self) -> _Result:
        if self.result is None and self.future is not None:
            self.result = self.future.result()
        assert self.result is not None  # only finished deliveries are settled
        return self.result
