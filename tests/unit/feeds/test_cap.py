"""cap: CAP 1.2 alert messages (single, or listed in an Atom/RSS index) → Alert (CATALOG §13)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from cityhub.ingest.feeds.base import adapter_class
from cityhub.ingest.feeds.cap import CapAlerts
from cityhub.ingest.feeds.fetch import Fetcher, FetchError
from cityhub.ingest.feeds.language_tags import language_tag, language_texts
from cityhub.ingest.feeds.records import RecordError, Rejected
from tests.conftest import shared_dir
from tests.http_server import ContextServer
from tests.unit.feeds.hub_check import assert_hub_accepts

FETCHED = datetime(2026, 9, 2, 9, 3, 12, tzinfo=UTC)
SAMPLE = shared_dir() / "fixtures" / "cap" / "cap_amber_alert_example.xml"
ALERT_CONTEXT = [
    "https://raw.githubusercontent.com/smart-data-models/dataModel.Alert/master/context.jsonld",
    "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld",
]
CAP_XML = "application/cap+xml"


def dt(value: str) -> dict:
    return {"type": "Property", "value": {"@type": "DateTime", "@value": value}}


def message(
    *,
    identifier: str = "JMA-20260902-0001",
    sender: str = "alerts@city.example.jp",
    sent: str = "2026-09-02T18:00:00+09:00",
    status: str = "Actual",
    msg_type: str = "Alert",
    scope: str = "Public",
    references: str | None = None,
    infos: str | None = None,
    header: str = "",
) -> str:
    """A CAP 1.2 message as an alerting authority writes it (fields in XSD order)."""
    refs = f"<references>{references}</references>" if references else ""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
  <identifier>{identifier}</identifier>
  <sender>{sender}</sender>
  <sent>{sent}</sent>
  <status>{status}</status>
  <msgType>{msg_type}</msgType>
  <scope>{scope}</scope>{header}
  {refs}
  {infos if infos is not None else FLOOD_INFOS}
</alert>"""


INSTRUCTIONS = {"ja": "高台へ避難してください"}


def info(language: str, event: str, headline: str, area: str, shapes: str) -> str:
    return f"""<info>
    <language>{language}</language>
    <category>Met</category>
    <category>Geo</category>
    <event>{event}</event>
    <responseType>Evacuate</responseType>
    <urgency>Immediate</urgency>
    <severity>Extreme</severity>
    <certainty>Observed</certainty>
    <effective>2026-09-02T18:05:00+09:00</effective>
    <onset>2026-09-02T19:00:00+09:00</onset>
    <expires>2026-09-03T06:00:00+09:00</expires>
    <senderName>{"七尾市" if language == "ja" else "Nanao City"}</senderName>
    <headline>{headline}</headline>
    <instruction>{INSTRUCTIONS.get(language, "Move to high ground")}</instruction>
    <area>
      <areaDesc>{area}</areaDesc>
      {shapes}
      <geocode><valueName>JIS</valueName><value>172022</value></geocode>
    </area>
  </info>"""


# Two translations of one flood warning; the first polygon is not closed in the source, the
# second area repeats in both translations and must appear once.
SHAPES = (
    "<polygon>37.05,136.95 37.05,136.98 37.02,136.98 37.02,136.95</polygon>"
    "<circle>37.04,136.97 2.5</circle>"
    "</area><area><areaDesc>{second}</areaDesc>"
    "<polygon>37.10,136.90 37.10,136.92 37.08,136.92 37.10,136.90</polygon>"
)
FLOOD_INFOS = info("ja", "洪水", "七尾市に洪水警報", "七尾市", SHAPES.format(second="和倉")) + info(
    "en-US", "Flood", "Flood warning for Nanao", "Nanao", SHAPES.format(second="Wakura")
)


def parse(payload: str | bytes, **options: object) -> list:
    data = payload.encode() if isinstance(payload, str) else payload
    return CapAlerts(options).parse(data, fetched_at=FETCHED, source="https://cap.example/a.xml")


def test_adapter_is_registered_for_the_default_tenant() -> None:
    cls = adapter_class("cap")
    assert cls is CapAlerts
    assert cls.default_tenant == ""


def test_oasis_amber_alert_sample() -> None:
    items = CapAlerts().parse(SAMPLE.read_bytes(), fetched_at=FETCHED)
    assert items == [
        {
            "id": "urn:ngsi-ld:Alert:CAP:KARO@CLETS.DOJ.CA.GOV:KAR0-0306112239-SW",
            "type": "Alert",
            "category": {"type": "Property", "value": "security"},
            "subCategory": {"type": "Property", "value": "Child Abduction"},
            "severity": {"type": "Property", "value": "high"},
            "name": {
                "type": "LanguageProperty",
                "languageMap": {
                    "en": "Amber Alert in Los Angeles County",
                    "es": "Alerta Amber en el condado de Los Ángeles",
                },
            },
            "description": {
                "type": "LanguageProperty",
                "languageMap": {
                    "en": items[0]["description"]["languageMap"]["en"],
                    "es": items[0]["description"]["languageMap"]["es"],
                },
            },
            "dateIssued": dt("2003-06-11T22:39:00-07:00"),
            "validFrom": dt("2003-06-11T22:39:00-07:00"),
            "areaServed": {
                "type": "LanguageProperty",
                "languageMap": {"en": "Los Angeles County", "es": "condado de Los Ángeles"},
            },
            "alertSource": {"type": "Property", "value": "KARO@CLETS.DOJ.CA.GOV"},
            "dataProvider": {
                "type": "Property",
                "value": "Los Angeles Police Dept - LAPD (KARO@CLETS.DOJ.CA.GOV)",
            },
            "data": {
                "type": "Property",
                "value": {
                    "status": "Actual",
                    "msgType": "Alert",
                    "scope": "Public",
                    "source": "SW",
                    "capCategory": ["Rescue"],
                    "event": {"en": "Child Abduction", "es": "Abducción de Niño"},
                    "urgency": "Immediate",
                    "certainty": "Likely",
                    "contact": "DET. SMITH, 77TH DIV, LOS ANGELES POLICE DEPT-LAPD AT 213 485-2389",
                    "eventCodes": [{"valueName": "SAME", "value": "CAE"}],
                    "geocodes": [{"valueName": "SAME", "value": "006037"}],
                },
            },
            "@context": ALERT_CONTEXT,
        }
    ]
    description = items[0]["description"]["languageMap"]
    assert description["en"].startswith("DATE/TIME: 06/11/03, 1915 HRS.  VICTIM(S)")
    assert description["es"].startswith("DATE/TIME: 06/11/03, 1915 HORAS. VÍCTIMAS")


def test_polygons_circles_and_translations() -> None:
    [alert] = parse(message())
    ring = [[136.95, 37.05], [136.98, 37.05], [136.98, 37.02], [136.95, 37.02], [136.95, 37.05]]
    second = [[136.9, 37.1], [136.92, 37.1], [136.92, 37.08], [136.9, 37.1]]
    assert alert == {
        "id": "urn:ngsi-ld:Alert:CAP:alerts@city.example.jp:JMA-20260902-0001",
        "type": "Alert",
        "category": {"type": "Property", "value": "weather"},
        "subCategory": {"type": "Property", "value": "Flood"},
        "severity": {"type": "Property", "value": "critical"},
        "name": {
            "type": "LanguageProperty",
            "languageMap": {"ja": "七尾市に洪水警報", "en": "Flood warning for Nanao"},
        },
        "description": {
            "type": "LanguageProperty",
            "languageMap": {"ja": "七尾市に洪水警報", "en": "Flood warning for Nanao"},
        },
        "dateIssued": dt("2026-09-02T18:00:00+09:00"),
        "validFrom": dt("2026-09-02T18:05:00+09:00"),
        "validTo": dt("2026-09-03T06:00:00+09:00"),
        "location": {
            "type": "GeoProperty",
            "value": {"type": "MultiPolygon", "coordinates": [[ring], [second]]},
        },
        "areaServed": {
            "type": "LanguageProperty",
            "languageMap": {"ja": "七尾市; 和倉", "en": "Nanao; Wakura"},
        },
        "alertSource": {"type": "Property", "value": "alerts@city.example.jp"},
        "dataProvider": {"type": "Property", "value": "七尾市 (alerts@city.example.jp)"},
        "source": {"type": "Property", "value": "https://cap.example/a.xml"},
        "data": {
            "type": "Property",
            "value": {
                "status": "Actual",
                "msgType": "Alert",
                "scope": "Public",
                "capCategory": ["Met", "Geo"],
                "event": {"ja": "洪水", "en": "Flood"},
                "urgency": "Immediate",
                "certainty": "Observed",
                "onset": "2026-09-02T19:00:00+09:00",
                "responseType": ["Evacuate"],
                "instruction": {"ja": "高台へ避難してください", "en": "Move to high ground"},
                "geocodes": [{"valueName": "JIS", "value": "172022"}],
                "circles": [{"center": [136.97, 37.04], "radius": 2.5}],
            },
        },
        "@context": ALERT_CONTEXT,
    }


def test_a_circle_alone_is_a_point_with_its_radius() -> None:
    infos = info("en", "Gas leak", "Gas leak", "Harbour", "<circle>37.04,136.97 0.5</circle>")
    [alert] = parse(message(infos=infos.replace("<category>Geo</category>", "")))
    assert alert["location"] == {
        "type": "GeoProperty",
        "value": {"type": "Point", "coordinates": [136.97, 37.04]},
    }
    assert alert["data"]["value"]["radius"] == 0.5
    assert "circles" not in alert["data"]["value"]


def test_one_polygon_is_a_polygon_and_regional_variants_keep_their_tag() -> None:
    polygon = "<polygon>37.05,136.95 37.05,136.98 37.02,136.98</polygon>"
    infos = info("en-US", "Flood", "US", "A", polygon) + info("en-GB", "Flood", "GB", "A", polygon)
    [alert] = parse(message(infos=infos))
    assert alert["location"]["value"]["type"] == "Polygon"
    assert alert["location"]["value"]["coordinates"][0][0] == [136.95, 37.05]
    assert alert["location"]["value"]["coordinates"][0][-1] == [136.95, 37.05]
    assert alert["name"]["languageMap"] == {"en": "US", "en-GB": "GB"}


@pytest.mark.parametrize(
    ("shape", "reason"),
    [
        ("<polygon>95.0,136.95 37.05,136.98 37.02,136.98</polygon>", "latitude 95.0"),
        ("<polygon>37.05,136.95 37.05,136.98</polygon>", "fewer than 3 distinct points"),
        ("<polygon>37.05;136.95 37.05,136.98 37.0,137.0</polygon>", "is not a lat,lon pair"),
        ("<circle>37.04,136.97</circle>", "is not 'lat,lon radius'"),
        ("<circle>37.04,136.97 far</circle>", "circle radius: 'far' is not a number"),
    ],
)
def test_invalid_shapes_reject_the_alert(shape: str, reason: str) -> None:
    [bad] = parse(message(infos=info("en", "Flood", "F", "A", shape)))
    assert isinstance(bad, Rejected)
    assert bad.where == "alert"
    assert reason in bad.reason
    assert "<identifier>JMA-20260902-0001</identifier>" in bad.raw


def test_cancel_ends_the_referenced_alert() -> None:
    cancel = message(
        identifier="JMA-20260902-0002",
        sent="2026-09-02T21:30:00+09:00",
        msg_type="Cancel",
        references="alerts@city.example.jp,JMA-20260902-0001,2026-09-02T18:00:00+09:00",
        header="\n  <note>Water levels have fallen</note>",
        infos="",
    )
    assert parse(cancel) == [
        {
            "id": "urn:ngsi-ld:Alert:CAP:alerts@city.example.jp:JMA-20260902-0001",
            "type": "Alert",
            "dateIssued": dt("2026-09-02T18:00:00+09:00"),
            "validTo": dt("2026-09-02T21:30:00+09:00"),
            "alertSource": {"type": "Property", "value": "alerts@city.example.jp"},
            "cancellation": {
                "type": "Property",
                "value": {
                    "sender": "alerts@city.example.jp",
                    "identifier": "JMA-20260902-0002",
                    "sent": "2026-09-02T21:30:00+09:00",
                    "note": "Water levels have fallen",
                },
            },
            "dataProvider": {"type": "Property", "value": "alerts@city.example.jp"},
            "source": {"type": "Property", "value": "https://cap.example/a.xml"},
            "@context": ALERT_CONTEXT,
        }
    ]
    [bad] = parse(message(msg_type="Cancel", infos=""))
    assert bad.reason == "a Cancel message names no alert in references"


def test_update_is_its_own_alert_naming_what_it_supersedes() -> None:
    update = message(
        identifier="JMA-20260902-0003",
        msg_type="Update",
        references="alerts@city.example.jp,JMA-20260902-0001,2026-09-02T18:00:00+09:00",
    )
    [alert] = parse(update)
    assert alert["id"] == "urn:ngsi-ld:Alert:CAP:alerts@city.example.jp:JMA-20260902-0003"
    assert alert["data"]["value"]["supersedes"] == [
        "urn:ngsi-ld:Alert:CAP:alerts@city.example.jp:JMA-20260902-0001"
    ]


@pytest.mark.parametrize("status", ["Exercise", "Test", "Draft", "System"])
def test_exercises_and_tests_are_dropped_unless_asked_for(status: str) -> None:
    assert parse(message(status=status)) == []
    [alert] = parse(message(status=status), include_tests=True)
    assert alert["data"]["value"]["status"] == status


def test_restricted_scope_and_acknowledgements_are_skipped() -> None:
    assert parse(message(scope="Restricted")) == []
    assert len(parse(message(scope="Restricted"), scopes=["Public", "Restricted"])) == 1
    assert parse(message(msg_type="Ack")) == []


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"identifier": ""}, "identifier is missing"),
        ({"sender": "city alerts"}, "sender 'city alerts' contains a space, comma, < or &"),
        ({"sent": "2026-09-02T18:00:00"}, "is not in the CAP form"),
        ({"sent": "2026-09-02T18:00:00Z"}, "is not in the CAP form"),
        ({"status": "Real"}, "status 'Real' is not one of Actual, Exercise"),
        ({"msg_type": "Alarm"}, "msgType 'Alarm' is not one of Alert, Update"),
        ({"scope": ""}, "scope None is not one of Public"),
        ({"references": "alerts@city.example.jp,X"}, "is not sender,identifier,sent"),
    ],
)
def test_messages_the_schema_forbids_are_rejected(changes: dict, reason: str) -> None:
    [bad] = parse(message(**changes))
    assert isinstance(bad, Rejected)
    assert reason in bad.reason


def test_info_with_a_category_or_severity_outside_cap_is_rejected() -> None:
    [bad] = parse(
        message(
            infos=FLOOD_INFOS.replace("<category>Met</category>", "<category>Weather</category>")
        )
    )
    assert "info/category" in bad.reason
    [bad] = parse(message(infos=FLOOD_INFOS.replace("Extreme", "Catastrophic")))
    assert "info/severity 'Catastrophic'" in bad.reason


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"<alert xmlns='urn:oasis:names:tc:emergency:cap:1.2'><identifier>", "not well-formed"),
        (b"<html><body>Service unavailable</body></html>", "neither a CAP alert nor an Atom"),
        (b'<!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>', "not well-formed XML"),
    ],
)
def test_unreadable_payload_is_one_rejection(payload: bytes, reason: str) -> None:
    [bad] = parse(payload)
    assert bad.where == "payload"
    assert reason in bad.reason


def atom(entries: str) -> str:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <id>urn:example:cap-feed</id><title>Alerts</title><updated>2026-09-02T09:00:00Z</updated>
  {entries}
</feed>"""


def test_atom_entries_that_embed_their_alert_are_parsed_in_place() -> None:
    body = message().split("?>", 1)[1]
    bad = message(identifier="BAD-1", sent="yesterday").split("?>", 1)[1]
    feed = atom(
        f"<entry><id>1</id><content type='text/xml'>{body}</content></entry>"
        f"<entry><id>2</id><content type='text/xml'>{bad}</content></entry>"
    )
    alert, rejected = parse(feed)
    assert alert["id"].endswith(":JMA-20260902-0001")
    assert rejected.where == "alert[1]"
    assert "sent 'yesterday' is not in the CAP form" in rejected.reason
    assert rejected.raw.startswith('<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">')
    assert "<identifier>BAD-1</identifier>" in rejected.raw
    assert parse(atom("<entry><id>2</id><link href='/a.xml'/></entry>")) == []


def test_parse_is_deterministic() -> None:
    assert parse(message()) == parse(message())
    assert parse(SAMPLE.read_bytes()) == parse(SAMPLE.read_bytes())


async def test_hub_accepts_every_entity() -> None:
    cancel = message(
        msg_type="Cancel",
        references="alerts@city.example.jp,JMA-20260902-0001,2026-09-02T18:00:00+09:00",
    )
    items = [*parse(SAMPLE.read_bytes()), *parse(message()), *parse(cancel)]
    assert await assert_hub_accepts(items) == 3


def test_language_tags_lose_their_region_only() -> None:
    assert [language_tag(t) for t in ("en-US", "es-US", "EN", "zh-Hant-TW", "es-419")] == [
        "en",
        "es",
        "en",
        "zh-Hant",
        "es",
    ]
    assert language_tag("ja-Hrkt") == "ja-Hrkt"
    assert language_tag("en_GB") == "en"
    with pytest.raises(RecordError, match="not a BCP 47 tag"):
        language_tag("english (US)")
    assert language_texts([("en-US", "a"), ("en-GB", "b"), ("en-US", "c"), ("fr", None)]) == {
        "en": "a",
        "en-GB": "b",
    }
    assert language_texts([("en-US", "a"), ("en", "b"), ("EN-us", "c")]) == {"en": "a"}


async def test_collect_reads_one_message() -> None:
    fetcher = Fetcher(retries=0)
    try:
        with ContextServer() as server:
            url = server.route("/cap/alert-1.xml", message(), content_type=CAP_XML)
            [alert] = await CapAlerts({"url": url}).collect(fetcher)
            assert server.hits("/cap/alert-1.xml") == 1
            assert alert["source"]["value"] == url
            assert alert["severity"]["value"] == "critical"
    finally:
        await fetcher.aclose()


async def test_collect_follows_the_links_of_an_atom_and_an_rss_index() -> None:
    fetcher = Fetcher(retries=0)
    try:
        with ContextServer() as server:
            server.route("/cap/1.xml", message(), content_type=CAP_XML)
            server.route("/cap/2.xml", message(identifier="X-2"), content_type=CAP_XML)
            entries = (
                "<entry><id>1</id><link rel='alternate' type='text/html' href='/web/1'/>"
                f"<link type='{CAP_XML}' href='{server.url('/cap/1.xml')}'/></entry>"
                "<entry><id>2</id><link href='2.xml'/></entry>"
                "<entry><id>3</id><link href='missing.xml'/></entry>"
            )
            index = server.route(
                "/cap/index.atom", atom(entries), content_type="application/atom+xml"
            )
            items = await CapAlerts({"url": index}).collect(fetcher)
            assert [server.hits(p) for p in ("/cap/1.xml", "/cap/2.xml", "/web/1")] == [1, 1, 0]
            assert [i["id"].rsplit(":", 1)[1] for i in items[:2]] == ["JMA-20260902-0001", "X-2"]
            assert items[0]["source"]["value"] == server.url("/cap/1.xml")
            [missing] = items[2:]
            assert isinstance(missing, Rejected)
            assert "HTTP 404" in missing.reason
            rss = (
                "<rss version='2.0'><channel><title>Alerts</title>"
                f"<item><title>1</title><link>{server.url('/cap/1.xml')}</link></item>"
                "</channel></rss>"
            )
            feed = server.route("/cap/index.rss", rss, content_type="application/rss+xml")
            [alert] = await CapAlerts({"url": feed}).collect(fetcher)
            assert server.hits("/cap/1.xml") == 2
            assert alert["id"].endswith(":JMA-20260902-0001")
    finally:
        await fetcher.aclose()


async def test_collect_needs_a_url() -> None:
    fetcher = Fetcher(retries=0)
    try:
        with pytest.raises(FetchError, match="needs the option url"):
            await CapAlerts().collect(fetcher)
    finally:
        await fetcher.aclose()
