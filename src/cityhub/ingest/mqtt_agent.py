"""Devices over MQTT, as FIWARE's IoT Agent for JSON receives them.

Topics ``/<apikey>/<device_id>/attrs`` (a JSON object of measures) and
``/<apikey>/<device_id>/attrs/<object_id>`` (one raw value), also under a leading
``/json``. The agent subscribes through a shared subscription (``$share/cityhub/…``), so
with several hub workers each message reaches one of them. Messages queue up and are
written in batches (up to ``BATCH_MAX`` messages, or what arrived within ``BATCH_WAIT``
seconds of the first): one batch upsert per tenant, so a burst costs a few transactions
instead of one per message. What cannot be stored is dead-lettered with its reason; the
agent keeps running and reconnects after a broker failure, with backoff.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

import aiomqtt

from cityhub.model.values import now_iso
from cityhub.services.iot import IotService, Measure, Prepared
from cityhub.storage.base import DeadLetter, Store

log = logging.getLogger(__name__)
TOPICS = ("/+/+/attrs", "/+/+/attrs/+", "/json/+/+/attrs", "/json/+/+/attrs/+")
SHARE_GROUP = "$share/cityhub/"
BATCH_MAX = 500
BATCH_WAIT = 0.05
MAX_PAYLOAD = 64 * 1024
QUEUE_MAX = 50_000  # messages waiting per writer; beyond it the agent stops reading
# Writers, each with its own queue: a device's messages always go to the same one, so they
# are stored in the order they came; PostgreSQL runs the writers' transactions side by side.
WRITERS = 2


@dataclass
class AgentCounters:
    """What the agent did since it started (GET /iot/about)."""

    connected: bool = False
    received: int = 0
    stored: int = 0
    dead_lettered: int = 0
    errors: list[str] = field(default_factory=list)


def parse_topic(topic: str) -> tuple[str, str, str | None] | None:
    """``/key/dev/attrs[/obj]`` (or under ``/json``) → (apikey, device_id, object_id)."""
    levels = topic.split("/")
    if len(levels) > 1 and levels[0] == "" and levels[1] == "json":
        levels = ["", *levels[2:]]
    if len(levels) not in (4, 5) or levels[0] != "" or levels[3] != "attrs":
        return None
    apikey, device_id = levels[1], levels[2]
    object_id = levels[4] if len(levels) == 5 else None
    if not apikey or not device_id or object_id == "":
        return None
    return apikey, device_id, object_id


class MqttDeviceAgent:
    def __init__(self, url: str, iot: IotService, store: Store) -> None:
        parts = urlsplit(url)
        if parts.scheme not in {"mqtt", "mqtts"} or not parts.hostname:
            raise ValueError(f"Setting iot_mqtt_url must be mqtt://host[:port], got {url!r}")
        self.host = parts.hostname
        self.port = parts.port or (8883 if parts.scheme == "mqtts" else 1883)
        self.tls = parts.scheme == "mqtts"
        self.username = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        self.iot = iot
        self.store = store
        self.counters = AgentCounters()
        self._queues: list[asyncio.Queue[Measure]] = [
            asyncio.Queue(QUEUE_MAX) for _ in range(WRITERS)
        ]
        self._tasks: list[asyncio.Task[None]] = []
        self.subscribed = asyncio.Event()

    def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._tasks = [loop.create_task(self._listen())]
        self._tasks += [loop.create_task(self._write(queue)) for queue in self._queues]

    async def stop(self) -> None:
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _listen(self) -> None:
        delay = 0.5
        while True:
            try:
                async with aiomqtt.Client(
                    self.host,
                    self.port,
                    username=self.username,
                    password=self.password,
                    # 3.1.1: Mosquitto shares subscriptions with it too, and paho builds no
                    # MQTT 5 property object per message (a sixth of the agent's CPU).
                    protocol=aiomqtt.ProtocolVersion.V311,
                    tls_params=aiomqtt.TLSParameters() if self.tls else None,
                ) as client:
                    for topic in TOPICS:
                        await client.subscribe(SHARE_GROUP + topic, qos=1)
                    self.counters.connected = True
                    self.subscribed.set()
                    delay = 0.5
                    async for message in client.messages:
                        measure = self._measure(str(message.topic), message.payload)
                        writer = hash((measure.apikey, measure.device_id)) % WRITERS
                        await self._queues[writer].put(measure)
            except aiomqtt.MqttError as exc:
                self.counters.connected = False
                self.subscribed.clear()
                log.warning("MQTT device agent: %s; reconnecting in %.1f s", exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30.0)

    def _measure(self, topic: str, payload: object) -> Measure:
        self.counters.received += 1
        data = payload if isinstance(payload, bytes) else str(payload or "").encode()
        parsed = parse_topic(topic)
        apikey, device_id, object_id = parsed if parsed else ("", "", None)
        measure = Measure(apikey, device_id, data, object_id, now_iso())
        if parsed is None:
            measure.apikey = topic  # kept for the dead letter's source
        return measure

    async def _write(self, queue: asyncio.Queue[Measure]) -> None:
        while True:
            batch = [await queue.get()]
            deadline = asyncio.get_running_loop().time() + BATCH_WAIT
            while len(batch) < BATCH_MAX:
                remaining = deadline - asyncio.get_running_loop().time()
                if remaining <= 0 and queue.empty():
                    break
                try:
                    batch.append(await asyncio.wait_for(queue.get(), max(remaining, 0)))
                except TimeoutError:
                    break
            try:
                await self.store_batch(batch)
            except Exception as exc:  # the agent keeps running; the batch is dead-lettered
                log.exception("MQTT device agent: a batch failed")
                self.counters.errors = [*self.counters.errors[-9:], str(exc)]
                await self._dead_letter(
                    [
                        DeadLetter("", m.source, f"Not stored: {exc}", _text(m), m.received_at)
                        for m in batch
                    ]
                )

    async def store_batch(self, batch: list[Measure]) -> None:
        """Prepare, write and dead-letter one batch of messages."""
        letters: list[DeadLetter] = []
        prepared: list[Prepared] = []
        for measure in batch:
            if not measure.device_id:
                letters.append(
                    DeadLetter(
                        "",
                        f"mqtt:{measure.apikey}",
                        "Not a device topic",
                        _text(measure),
                        measure.received_at,
                    )
                )
            elif len(measure.payload) > MAX_PAYLOAD:
                letters.append(
                    DeadLetter(
                        "",
                        measure.source,
                        f"Larger than {MAX_PAYLOAD} bytes",
                        _text(measure)[:1024],
                        measure.received_at,
                    )
                )
            else:
                outcome = await self.iot.prepare(measure)
                if isinstance(outcome, DeadLetter):
                    letters.append(outcome)
                else:
                    prepared.append(outcome)
        refused = await self.iot.store_measures(prepared)
        self.counters.stored += len(prepared) - len(refused)
        await self._dead_letter(letters + refused)

    async def _dead_letter(self, letters: list[DeadLetter]) -> None:
        if letters:
            self.counters.dead_lettered += len(letters)
            await self.store.add_dead_letters(letters)


def _text(measure: Measure) -> str:
    return measure.payload.decode("utf-8", errors="replace")
