"""Tokyo ODPT train information → Alert per railway (CATALOG §8).

``odpt:TrainInformation`` (v4 API ``https://api.odpt.org/api/v4/odpt:TrainInformation``,
JSON-LD array; the older Tokyo Metro v2 API gave the same members with plain Japanese strings
where v4 has language maps ``{"ja": …, "en": …}``) reports the current service status of each
railway (v4 leaves the status out in normal service and says "運行情報あり" when there is
news without a specific status). One entity per railway,
``urn:ngsi-ld:Alert:JP-ODPT:{railway}`` (``TokyoMetro.Hibiya`` from
``odpt.Railway:TokyoMetro.Hibiya``; the operator when a record names no railway), so each new
status replaces the last. Normal service (平常運転, or no status at all) still gives the
entity, with ``severity`` "informational", so a lifted disruption shows.

``category`` "traffic"; ``subCategory`` is the project's word for the status (the SDM has none
for rail service): normalService, delay, suspended, resumed, disrupted; ``severity``:
suspended → high, delay/disrupted → medium, resumed → low, normal → informational.
``description`` ← ``odpt:trainInformationText``, ``dateIssued`` ← ``dc:date``, ``validFrom``
← ``odpt:timeOfOrigin``, ``validTo`` ← ``dct:valid``, ``alertSource`` ← ``odpt:operator``,
the status, cause, area, range, direction, stations, transfer railways and resume estimate
in ``data``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson

from cityhub.ingest.feeds.base import FeedAdapter, register
from cityhub.ingest.feeds.fetch import Fetcher, FetchError
from cityhub.ingest.feeds.language_tags import language_texts
from cityhub.ingest.feeds.ngsi import date_time, entity, language, prop, urn_part
from cityhub.ingest.feeds.records import Entity, Item, RecordError, Rejected, map_records
from cityhub.ingest.feeds.values import aware_time, required, text

ODPT_URL = "https://api.odpt.org/api/v4"
PROVIDER_V4 = "公共交通オープンデータセンター Public Transportation Open Data Center (odpt.org)"
PROVIDER_V2 = "東京メトロオープンデータ Tokyo Metro Open Data (tokyometroapp.jp)"

# Status words, Japanese first (every operator gives ja; en is optional): the first rule whose
# word occurs in the status decides. Unknown statuses count as "disrupted".
_STATUS_RULES = (
    (("平常", "normal"), "normalService", "informational"),
    (("直通運転中止", "through service"), "disrupted", "medium"),  # the line itself runs
    (("見合わせ", "運休", "運転中止", "suspend"), "suspended", "high"),
    (("再開", "resum"), "resumed", "low"),
    (("遅延", "遅れ", "乱れ", "delay"), "delay", "medium"),
)
_NORMAL_TEXT = ("平常どおり", "平常通り", "平常運転")


def texts(value: Any, field: str) -> dict[str, str | None]:
    """A v4 language map or a v2 plain (Japanese) string as texts by language tag."""
    if value is None:
        return {}
    if isinstance(value, str):
        return {"ja": text(value, field)}
    if not isinstance(value, dict):
        raise RecordError(f"{field}: {value!r} is neither text nor a language map")
    return language_texts((tag, text(v, f"{field}.{tag}")) for tag, v in value.items())


def classify(status: dict[str, str | None], description: dict[str, str | None]) -> tuple[str, str]:
    """(subCategory, severity) of a status; no status means normal service when the text says
    so (v2 gives only the text, "現在、平常どおり運転しています。") or is absent."""
    words = " ".join(v for v in status.values() if v).lower()
    if not words:
        said = description.get("ja") or ""
        if not said or any(marker in said for marker in _NORMAL_TEXT):
            return "normalService", "informational"
        words = said
    for markers, sub_category, severity in _STATUS_RULES:
        if any(marker in words for marker in markers):
            return sub_category, severity
    return "disrupted", "medium"


@register
class OdptTrainInformation(FeedAdapter):
    """ODPT train service information. Options: ``base_url`` (default the v4 API),
    ``operator`` (an ``odpt.Operator:…`` id or a list of them; default all operators)."""

    name = "odpt"
    title = "Tokyo ODPT train service information (odpt:TrainInformation)"
    default_tenant = "tokyo"
    key_setting = "odpt_api_key"

    @property
    def url(self) -> str:
        return str(self.options.get("base_url") or ODPT_URL).rstrip("/") + "/odpt:TrainInformation"

    def params(self) -> dict[str, str]:
        """The query: operators comma-separated (the API's OR form) and the consumer key."""
        params = {}
        operator = self.options.get("operator")
        if operator:
            params["odpt:operator"] = operator if isinstance(operator, str) else ",".join(operator)
        params["acl:consumerKey"] = self.api_key
        return params

    async def collect(self, fetcher: Fetcher) -> list[Item]:
        if not self.api_key:
            raise FetchError(f"The odpt feed needs an API key (setting {self.key_setting})")
        fetched = await fetcher.get(self.url, params=self.params())
        if fetched is None:
            return []
        source = fetched.url.split("?", 1)[0]  # the query holds the key
        return self.parse(fetched.body, fetched_at=fetched.fetched_at, source=source)

    def parse(self, payload: bytes, *, fetched_at: datetime, source: str = "") -> list[Item]:
        raw = payload.decode("utf-8", errors="replace")
        try:
            records = orjson.loads(payload)
        except orjson.JSONDecodeError as exc:
            return [Rejected(f"The payload is not valid JSON: {exc}", raw[:2000], "payload")]
        if not isinstance(records, list):
            reason = "The payload is not an array of odpt:TrainInformation"
            if isinstance(records, dict) and records.get("title"):
                reason = f"The ODPT API answered an error: {records.get('title')}"
            return [Rejected(reason, raw[:2000], "payload")]
        return map_records(
            ((f"[{i}]", r) for i, r in enumerate(records)),
            lambda record: self._alert(record, source),
        )

    def _alert(self, record: Any, source: str) -> Entity | None:
        if not isinstance(record, dict):
            raise RecordError("a TrainInformation record must be a JSON object")
        kind = record.get("@type")
        if kind is not None and kind != "odpt:TrainInformation":
            return None
        operator = text(record.get("odpt:operator"), "odpt:operator")
        railway = text(record.get("odpt:railway"), "odpt:railway")
        subject = required(railway or operator, "odpt:railway")
        local = subject.split(":", 1)[1] if subject.startswith("odpt.") else subject
        status = texts(record.get("odpt:trainInformationStatus"), "odpt:trainInformationStatus")
        description = texts(record.get("odpt:trainInformationText"), "odpt:trainInformationText")
        sub_category, severity = classify(status, description)
        issued = required(aware_time(record.get("dc:date"), "dc:date"), "dc:date")
        data: dict[str, Any] = {"railway": railway, "operator": operator}
        for key, member in (
            ("status", "odpt:trainInformationStatus"),
            ("cause", "odpt:trainInformationCause"),
            ("area", "odpt:trainInformationArea"),
            ("kind", "odpt:trainInformationKind"),
            ("range", "odpt:trainInformationRange"),
        ):
            if found := texts(record.get(member), member):
                data[key] = found
        for key, member in (
            ("railDirection", "odpt:railDirection"),
            ("stationFrom", "odpt:stationFrom"),
            ("stationTo", "odpt:stationTo"),
            ("odptId", "@id"),
            ("sameAs", "owl:sameAs"),
        ):
            if value := text(record.get(member), member):
                data[key] = value
        if resume := aware_time(record.get("odpt:resumeEstimate"), "odpt:resumeEstimate"):
            data["resumeEstimate"] = resume
        transfers = record.get("odpt:transferRailways")
        if isinstance(transfers, list) and transfers:
            data["transferRailways"] = [str(r) for r in transfers]
        context = str(record.get("@context") or "")
        return entity(
            f"urn:ngsi-ld:Alert:JP-ODPT:{urn_part(local)}",
            "Alert",
            category=prop("traffic"),
            subCategory=prop(sub_category),
            severity=prop(severity),
            description=language(description),
            areaServed=language(texts(record.get("odpt:trainInformationArea"), "area")),
            dateIssued=date_time(issued),
            validFrom=date_time(aware_time(record.get("odpt:timeOfOrigin"), "odpt:timeOfOrigin")),
            validTo=date_time(aware_time(record.get("dct:valid"), "dct:valid")),
            alertSource=prop(operator or railway),
            dataProvider=prop(PROVIDER_V2 if "tokyometroapp" in context else PROVIDER_V4),
            source=prop(source or None),
            data=prop({k: v for k, v in data.items() if v}),
        )
