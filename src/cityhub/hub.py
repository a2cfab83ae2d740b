"""The composition root: one store, the context registry and the services over them."""

from __future__ import annotations

from cityhub.federation.distributed import Federation
from cityhub.federation.sharing import SharingPolicy, partners_from_settings
from cityhub.ingest.feeds.contexts import context_of
from cityhub.ingest.feeds.runner import FeedRunner
from cityhub.ingest.feeds.scheduler import FeedScheduler
from cityhub.ingest.mqtt_agent import MqttDeviceAgent
from cityhub.jsonld.termmap import TermMap
from cityhub.notifications.dispatcher import Dispatcher
from cityhub.notifications.feed_delivery import FeedDelivery
from cityhub.notifications.http_delivery import HttpDelivery
from cityhub.notifications.mqtt_delivery import MqttDelivery
from cityhub.notifications.planner import NotificationPlanner
from cityhub.services.batch import BatchService
from cityhub.services.contexts import ContextService
from cityhub.services.csources import make_csources
from cityhub.services.discovery import DiscoveryService
from cityhub.services.entities import EntityService
from cityhub.services.iot import IotService
from cityhub.services.queries import QueryService
from cityhub.services.subscriptions import SubscriptionService
from cityhub.services.temporal import TemporalService
from cityhub.services.temporal_provision import TemporalProvisionService
from cityhub.settings import Settings
from cityhub.storage import create_store
from cityhub.storage.base import Store


class Hub:
    """Everything one worker process needs; opened in the app's lifespan."""

    def __init__(self, settings: Settings, store: Store | None = None) -> None:
        self.settings = settings
        self.store: Store = store or create_store(settings)
        self.contexts = ContextService(self.store, settings)
        self.entities = EntityService(self.store)
        self.batch = BatchService(self.store)
        self.queries = QueryService(self.store, max_limit=settings.query_max_limit)
        self.discovery = DiscoveryService(self.store)
        self.subscriptions = SubscriptionService(
            self.store, self.contexts, max_limit=settings.query_max_limit
        )
        self.temporal = TemporalService(self.store, settings)
        self.temporal_provision = TemporalProvisionService(self.store)
        self.store.record_history = settings.temporal_history
        self.iot = IotService(
            self.store, self.contexts, self.batch, autoprovision=settings.iot_autoprovision
        )
        self.device_agent: MqttDeviceAgent | None = None
        self.feeds = FeedRunner(self.store, self.contexts, self.batch)
        self.feed_scheduler: FeedScheduler | None = None
        self.csources = make_csources(self.store, self.contexts, settings)
        self.federation = Federation(self)
        self.sharing = SharingPolicy({}, settings.admin_key)
        self.planner = NotificationPlanner(self.contexts)
        self.store.commit_hook = self.planner
        self.dispatcher: Dispatcher | None = None

    async def open(self, *, migrate: bool = True) -> None:
        await self.store.open()
        if migrate:
            await self.store.migrate()
        await self.prepare()
        self.start_background()

    async def prepare(self) -> None:
        """What needs the open store or the contexts: the sharing policy's names resolved
        (a bad [[partners]] table stops the start), this hub's source identity."""

        async def resolve(type_name: str) -> TermMap:
            return await self.contexts.resolve(context_of(type_name))

        partners = await partners_from_settings(self.settings.partners, resolve)
        self.sharing = SharingPolicy({p.key: p for p in partners}, self.settings.admin_key)
        self.federation.identity = await self.store.source_identity()
        self.csources.notifier.kick()  # what a stopped process left queued

    def start_background(self) -> None:
        """Start the notification dispatcher (when the settings ask for it), history
        retention (when one is set), the MQTT device agent and the scheduled feeds."""
        self.temporal.start_retention()
        if self.settings.feeds and self.feed_scheduler is None:
            self.feed_scheduler = FeedScheduler(self.settings, self.feeds)
            self.feed_scheduler.start()
        if self.settings.iot_mqtt_url and self.device_agent is None:
            self.device_agent = MqttDeviceAgent(self.settings.iot_mqtt_url, self.iot, self.store)
            self.device_agent.start()
        if self.settings.notifications and self.dispatcher is None:
            http = HttpDelivery()
            mqtt = MqttDelivery(self.settings.notification_mqtt_ca_file)
            self.dispatcher = Dispatcher(
                self.store,
                self.contexts,
                {
                    "http": http,
                    "https": http,
                    "mqtt": mqtt,
                    "mqtts": mqtt,
                    "urn": FeedDelivery(self.store, self.settings.notification_feed_retention),
                },
                lease_seconds=self.settings.notification_lease,
                retry_max_seconds=self.settings.notification_retry_max,
                retention_seconds=self.settings.notification_retention,
                max_periodic_entities=self.settings.query_max_limit,
            )
            self.dispatcher.start()

    async def stop_background(self) -> None:
        await self.temporal.stop_retention()
        if self.feed_scheduler is not None:
            await self.feed_scheduler.stop()
            self.feed_scheduler = None
        if self.device_agent is not None:
            await self.device_agent.stop()
            self.device_agent = None
        if self.dispatcher is not None:
            await self.dispatcher.stop()
            self.dispatcher = None

    async def close(self) -> None:
        await self.stop_background()
        await self.csources.notifier.aclose()
        await self.federation.aclose()
        await self.contexts.aclose()
        await self.store.close()
