"""A hub's context source services: registrations (5.9, 5.10), registration subscriptions
(5.11), its source identity (5.15), and the notifier that delivers CsourceNotifications from
their outbox. Made with the hub; the notifier is started when the store opens (rows a
stopped process left queued go out then) and stopped with the hub."""

from __future__ import annotations

from dataclasses import dataclass

from cityhub.notifications.csource_delivery import CsourceNotifier
from cityhub.services.contexts import ContextService
from cityhub.services.csource_subscriptions import CsourceSubscriptionService
from cityhub.services.registrations import RegistrationService, SourceIdentityService
from cityhub.settings import Settings
from cityhub.storage.base import Store


@dataclass
class Csources:
    registrations: RegistrationService
    subscriptions: CsourceSubscriptionService
    identity: SourceIdentityService
    notifier: CsourceNotifier


def make_csources(store: Store, contexts: ContextService, settings: Settings) -> Csources:
    notifier = CsourceNotifier(
        store,
        contexts,
        lease_seconds=settings.notification_lease,
        retry_max_seconds=settings.notification_retry_max,
        retention_seconds=settings.notification_retention,
    )
    return Csources(
        RegistrationService(store, contexts, notifier, max_limit=settings.query_max_limit),
        CsourceSubscriptionService(store, contexts, notifier, max_limit=settings.query_max_limit),
        SourceIdentityService(store, settings.hub_alias),
        notifier,
    )
