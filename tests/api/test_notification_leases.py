"""Claimed notifications are sent once even when sending them outlasts the claim's lease.

A worker claims outbox rows with a lease (notification_lease) and sends a subscription's
rows one after the other. Behind a slow receiver the last rows wait longer than the lease;
the worker must renew its lease before sending (or leave a row another claim took), so every
change still reaches the receiver exactly once (issue 4: each matching change notified once).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.receivers import NotificationReceiver

API = "/ngsi-ld/v1"
EX = "https://example.org/city/"


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"notification_lease": 1.0}


@pytest.fixture
def slow_receiver() -> Iterator[NotificationReceiver]:
    with NotificationReceiver(delay=0.1) as receiver:
        yield receiver


async def test_rows_waiting_longer_than_the_lease_are_sent_once(
    client: httpx.AsyncClient, slow_receiver: NotificationReceiver
) -> None:
    subscription = {
        "id": "urn:ngsi-ld:Subscription:lease",
        "type": "Subscription",
        "entities": [{"type": EX + "Parking"}],
        "notification": {"format": "keyValues", "endpoint": {"uri": slow_receiver.url("/n")}},
    }
    assert (await client.post(f"{API}/subscriptions", json=subscription)).status_code == 201
    changes = 30  # 3 s of sending behind a 1 s lease
    entities = [
        {
            "id": f"urn:ngsi-ld:Parking:{n}",
            "type": EX + "Parking",
            EX + "spots": {"type": "Property", "value": n},
        }
        for n in range(changes)
    ]
    response = await client.post(f"{API}/entityOperations/create", json=entities)
    assert response.status_code == 201, response.text
    received = await slow_receiver.wait_for(changes, timeout=30)
    await asyncio.sleep(1.5)  # a second copy of any row would arrive by now
    assert len(slow_receiver.accepted()) == changes
    ids = [r.body["data"][0]["id"] for r in received]
    assert sorted(ids) == sorted(e["id"] for e in entities)
