"""Japanese designated evacuation sites and shelters → PointOfInterest (CATALOG §9).

Two real shapes are read, told apart by their content (the format by the first byte, the
dataset by its columns):

* the GSI national data (国土地理院 指定緊急避難場所・指定避難所データ), GeoJSON (``_2`` =
  指定緊急避難場所, hazard flags ``洪水`` … ``火山現象``; ``_1`` = 指定避難所, with
  ``指定緊急避難場所との住所同一`` and ``受入対象者``) or the same columns as CSV with
  ``緯度``/``経度``; ids ``urn:ngsi-ld:PointOfInterest:JP-GSI:{共通ID}`` (the 共通ID differs
  between the two lists, so a school that is both gives two entities);
* the municipal standard dataset (自治体標準オープンデータセット 指定緊急避難場所一覧 /
  指定避難所一覧) CSV, Shift_JIS or UTF-8; ids
  ``urn:ngsi-ld:PointOfInterest:JP-{municipality code}:{category}:{ID}`` (the municipal ``ID``
  is only unique within one list of one municipality).

There is no Smart Data Model for shelters: PointOfInterest carries ``capacity`` and
``occupancy``; ``category`` is ["evacuationSite"] or ["evacuationShelter"] (project values),
``hazardTypes`` an extension listing the hazards a site is designated for. The files have no
time of their own and are static, so no time attribute is written. Coordinates are WGS84
(JGD2011) degrees unless the option ``crs`` or a GeoJSON ``crs`` member names a Japanese
plane-rectangular system (``jp_crs``). A CSV with a ``人数`` column is a live opening-status
list instead (``jp_shelter_status``): ``occupancy`` and ``status`` for the same ids.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Callable
from datetime import datetime
from typing import Any

import orjson

from cityhub.ingest.feeds.base import FeedAdapter, register
from cityhub.ingest.feeds.fetch import Fetcher
from cityhub.ingest.feeds.jp_crs import crs_of_geojson, epsg_code, to_wgs84
from cityhub.ingest.feeds.jp_shelter_status import status_header, status_items
from cityhub.ingest.feeds.ngsi import entity, language, point, prop, urn_part
from cityhub.ingest.feeds.records import Entity, Item, RecordError, Rejected, map_records
from cityhub.ingest.feeds.values import number, required, text

GSI_URL = "https://hinanmap.gsi.go.jp/hinanjocp/defaultFtpData/geoJSON/mergeFromCity_2.geojson"
GSI_PROVIDER = (
    "出典：国土地理院 指定緊急避難場所・指定避難所データ "
    "(Geospatial Information Authority of Japan, hinanmap.gsi.go.jp)"
)
MUNICIPAL_PROVIDER = "自治体標準オープンデータセット (municipal open data)"
STATUS_PROVIDER = "避難所開設状況 (municipal shelter opening status)"

SITE = "evacuationSite"  # 指定緊急避難場所: where to flee from an imminent hazard
SHELTER = "evacuationShelter"  # 指定避難所: where to stay after it
_GSI_FILE = {SITE: 2, SHELTER: 1}  # mergeFromCity_{n}.geojson

# The eight hazards a site is designated for, in the order of the GSI columns and of the
# standard dataset's 災害種別_* columns; the English words are the project's vocabulary.
HAZARDS = (
    ("洪水", "flood"),
    ("崖崩れ、土石流及び地滑り", "landslide"),
    ("高潮", "stormSurge"),
    ("地震", "earthquake"),
    ("津波", "tsunami"),
    ("大規模な火事", "largeFire"),
    ("内水氾濫", "inlandFlooding"),
    ("火山現象", "volcano"),
)
_FLAG_SET = {"1", "○", "〇", "◯", "●", "true", "TRUE", "有", "あり"}
_PREFECTURE = re.compile(r"^(東京都|北海道|京都府|大阪府|.{2,3}?県)(.*)$")


def _flag(raw: Any) -> bool:
    return raw == 1 or (isinstance(raw, str) and raw.strip() in _FLAG_SET)


def _hazards(record: dict[str, Any], prefix: str) -> list[str] | None:
    found = [english for column, english in HAZARDS if _flag(record.get(prefix + column))]
    return found or None


def capacity(raw: Any) -> int | None:
    """想定収容人数 is free text ("約500人", "500名", "1,200人（屋内）", "不明"): the first number,
    or None when there is none or the text gives an area (㎡) instead of people."""
    value = text(raw, "想定収容人数")
    if value is None:
        return None
    value = unicodedata.normalize("NFKC", value)  # full-width digits; ㎡ becomes "m2"
    if re.search(r"m2|m²|平方メートル|平米", value):
        return None
    match = re.search(r"\d[\d,]*(?:\.\d+)?", value)
    if match is None:
        return None
    people = number(match.group(), "想定収容人数")
    return None if people is None else int(people)


def _address(region: str | None, locality: str | None, street: str | None) -> dict[str, str]:
    address = {"addressCountry": "JP"}
    for key, value in (
        ("addressRegion", region),
        ("addressLocality", locality),
        ("streetAddress", street),
    ):
        if value:
            address[key] = value
    return address


def gsi_address(municipality: str | None, full: str | None) -> dict[str, str]:
    """``都道府県名及び市町村名`` ("東京都千代田区") and ``住所`` (the whole address) as a
    schema.org address: prefecture and municipality split off, the rest as street address."""
    region = locality = None
    if municipality:
        match = _PREFECTURE.match(municipality)
        region, locality = (match.group(1), match.group(2) or None) if match else (None, None)
    street = full
    if full and municipality and full.startswith(municipality):
        street = full[len(municipality) :].strip() or None
    return _address(region, locality, street)


class _Mapper:
    """Maps the records of one payload (knows its source, CRS and dataset kind)."""

    def __init__(
        self, source: str, crs: int | None, kind: str | None, municipality: str | None
    ) -> None:
        self.source = source
        self.crs = crs
        self.kind = kind
        self.municipality = municipality

    def position(self, x: Any, y: Any, field: str) -> tuple[float, float]:
        return to_wgs84(x, y, self.crs, field)

    def municipal_id(self, row: dict[str, Any], kind: str) -> str:
        local = required(text(row.get("ID"), "ID"), "ID")
        code = (
            text(row.get("全国地方公共団体コード"), "全国地方公共団体コード")
            or text(row.get("所在地_全国地方公共団体コード"), "所在地_全国地方公共団体コード")
            or self.municipality
        )
        return f"urn:ngsi-ld:PointOfInterest:JP-{code or 'LG'}:{kind}:{urn_part(local)}"

    def shelter_id(self, row: dict[str, Any]) -> str:
        """The id a live-status row refers to: by 共通ID (GSI) or by ID (standard dataset)."""
        if common_id := text(row.get("共通ID"), "共通ID"):
            return f"urn:ngsi-ld:PointOfInterest:JP-GSI:{urn_part(common_id)}"
        return self.municipal_id(row, self.kind or SITE)

    def gsi(self, props: dict[str, Any], xy: tuple[Any, Any]) -> Entity:
        """One GSI record (GeoJSON properties or a CSV row) with its raw coordinates."""
        common_id = required(text(props.get("共通ID"), "共通ID"), "共通ID")
        name = required(text(props.get("施設・場所名"), "施設・場所名"), "施設・場所名")
        lon, lat = self.position(*xy, "location")
        shelter = "指定緊急避難場所との住所同一" in props or "受入対象者" in props
        kind = self.kind or (SHELTER if shelter else SITE)
        notes = [
            text(props.get("備考"), "備考"),
            text(props.get("その他市町村長が必要と認める事項"), "その他市町村長が必要と認める事項"),
        ]
        audience = text(props.get("受入対象者"), "受入対象者")
        if audience:
            notes.append(f"受入対象者: {audience}")
        return entity(
            f"urn:ngsi-ld:PointOfInterest:JP-GSI:{urn_part(common_id)}",
            "PointOfInterest",
            name=language({"ja": name}),
            category=prop([kind]),
            description=language({"ja": "\n".join(n for n in notes if n)}),
            address=prop(
                gsi_address(
                    text(props.get("都道府県名及び市町村名"), "都道府県名及び市町村名"),
                    text(props.get("住所"), "住所"),
                )
            ),
            location=point(lon, lat),
            hazardTypes=prop(None if kind == SHELTER else _hazards(props, "")),
            dataProvider=prop(GSI_PROVIDER),
            source=prop(
                self.source or GSI_URL.replace("_2.geojson", f"_{_GSI_FILE[kind]}.geojson")
            ),
        )

    def municipal(self, row: dict[str, Any]) -> Entity:
        """One row of the standard dataset 指定緊急避難場所一覧 / 指定避難所一覧."""
        required(text(row.get("ID"), "ID"), "ID")
        name = required(text(row.get("名称"), "名称"), "名称")
        lon, lat = self.position(row.get("経度"), row.get("緯度"), "location")
        shelter = "指定緊急避難場所との重複" in row and not any(
            "災害種別_" + column in row for column, _ in HAZARDS
        )
        kind = self.kind or (SHELTER if shelter else SITE)
        street = "".join(
            part
            for part in (
                text(row.get("所在地_町字"), "所在地_町字"),
                text(row.get("所在地_番地以下"), "所在地_番地以下"),
            )
            if part
        )
        building = text(row.get("建物名等(方書)"), "建物名等(方書)")
        if street and building:
            street = f"{street} {building}"
        region = text(row.get("所在地_都道府県"), "所在地_都道府県")
        locality = text(row.get("所在地_市区町村"), "所在地_市区町村")
        whole = text(row.get("所在地_連結表記"), "所在地_連結表記")
        if not street and whole:
            prefix = (region or "") + (locality or "")
            street = whole[len(prefix) :].strip() if whole.startswith(prefix) else whole
        provider = text(row.get("地方公共団体名"), "地方公共団体名")
        provider = f"{provider} {MUNICIPAL_PROVIDER}" if provider else MUNICIPAL_PROVIDER
        return entity(
            self.municipal_id(row, kind),
            "PointOfInterest",
            name=language({"ja": name, "en": text(row.get("名称_英字"), "名称_英字")}),
            category=prop([kind]),
            description=language({"ja": text(row.get("備考"), "備考")}),
            address=prop(_address(region, locality, street or None)),
            location=point(lon, lat),
            capacity=prop(capacity(row.get("想定収容人数"))),
            hazardTypes=prop(None if kind == SHELTER else _hazards(row, "災害種別_")),
            dataProvider=prop(provider),
            source=prop(self.source or None),
        )


def _decode(payload: bytes) -> str:
    """Municipal CSVs come as UTF-8 (often with a BOM) or Shift_JIS (cp932)."""
    try:
        return payload.decode("utf-8-sig")
    except UnicodeDecodeError:
        return payload.decode("cp932")


@register
class JapanShelters(FeedAdapter):
    """Designated evacuation sites/shelters of Japan (GSI GeoJSON/CSV or the municipal standard
    dataset CSV). Options: ``url`` (default the GSI 指定緊急避難場所 file), ``base_url`` (host
    part of the default GSI URL, for tests), ``crs`` (e.g. "EPSG:6675"), ``kind``
    ("evacuationSite"/"evacuationShelter", default: from the columns), ``municipality`` (the
    6-digit code for files without one) and ``data_provider`` (attribution of a live-status
    CSV, see ``jp_shelter_status``)."""

    name = "jp-shelters"
    title = "Japan designated evacuation sites and shelters (GSI / municipal open data)"
    default_tenant = "tokyo"

    def __init__(self, options: dict[str, Any] | None = None, api_key: str = "") -> None:
        super().__init__(options, api_key)
        crs = self.options.get("crs")
        self.crs = epsg_code(str(crs)) if crs else None
        kind = self.options.get("kind")
        if kind not in (None, SITE, SHELTER):
            raise ValueError(f"jp-shelters: kind must be {SITE!r} or {SHELTER!r}, not {kind!r}")
        self.kind: str | None = kind
        self.municipality = text(self.options.get("municipality"), "municipality")

    @property
    def url(self) -> str:
        if self.options.get("url"):
            return str(self.options["url"])
        base = str(self.options.get("base_url") or "https://hinanmap.gsi.go.jp").rstrip("/")
        return base + GSI_URL.removeprefix("https://hinanmap.gsi.go.jp")

    async def collect(self, fetcher: Fetcher) -> list[Item]:
        fetched = await fetcher.get(self.url)
        if fetched is None:
            return []
        return self.parse(fetched.body, fetched_at=fetched.fetched_at, source=fetched.url)

    def parse(self, payload: bytes, *, fetched_at: datetime, source: str = "") -> list[Item]:
        """``source`` defaults to the option ``url``; without either, GSI records name the
        GSI file of their kind and municipal records no source."""
        source = source or str(self.options.get("url") or "")
        head = payload.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
        if head in (b"{", b"["):
            return self._geojson(payload, source)
        return self._csv(payload, source)

    def _geojson(self, payload: bytes, source: str) -> list[Item]:
        raw = payload.decode("utf-8", errors="replace")
        try:
            doc = orjson.loads(payload.lstrip(b"\xef\xbb\xbf"))
            if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection":
                raise RecordError("the GeoJSON is not a FeatureCollection")
            features = doc.get("features")
            if not isinstance(features, list):
                raise RecordError("the FeatureCollection has no features array")
            crs = self.crs or crs_of_geojson(doc)
        except orjson.JSONDecodeError as exc:
            return [Rejected(f"The payload is not valid JSON: {exc}", raw[:2000], "payload")]
        except RecordError as exc:
            return [Rejected(str(exc), raw[:2000], "payload")]
        mapper = _Mapper(source, crs, self.kind, self.municipality)

        def build(feature: Any) -> Entity:
            if not isinstance(feature, dict) or not isinstance(feature.get("properties"), dict):
                raise RecordError("a Feature needs a properties object")
            geometry = feature.get("geometry")
            if not isinstance(geometry, dict) or geometry.get("type") != "Point":
                raise RecordError("the geometry is not a Point")
            coordinates = geometry.get("coordinates")
            if not isinstance(coordinates, list) or len(coordinates) < 2:
                raise RecordError("the Point has no [x, y] coordinates")
            props = feature["properties"]
            if "共通ID" not in props and "ID" in props:
                row = {**props, "経度": coordinates[0], "緯度": coordinates[1]}
                return mapper.municipal(row)
            return mapper.gsi(props, (coordinates[0], coordinates[1]))

        return map_records(((f"features[{i}]", f) for i, f in enumerate(features)), build)

    def _csv(self, payload: bytes, source: str) -> list[Item]:
        try:
            content = _decode(payload)
        except UnicodeDecodeError:
            raw = payload.decode("utf-8", errors="replace")[:2000]
            return [Rejected("The CSV is neither UTF-8 nor Shift_JIS", raw, "payload")]
        mapper = _Mapper(source, self.crs, self.kind, self.municipality)
        header = status_header(content)
        if header is not None:
            provider = str(self.options.get("data_provider") or STATUS_PROVIDER)
            return status_items(content, header, mapper.shelter_id, provider, source or None)
        reader = csv.DictReader(io.StringIO(content, newline=""))
        columns = {(c or "").strip() for c in reader.fieldnames or []}
        build: Callable[[dict[str, Any]], Entity]
        if {"共通ID", "施設・場所名"} <= columns:

            def build(row: dict[str, Any]) -> Entity:
                return mapper.gsi(row, (row.get("経度"), row.get("緯度")))

        elif {"ID", "名称"} <= columns:
            build = mapper.municipal
        else:
            return [
                Rejected(
                    "The CSV has neither the GSI columns (共通ID, 施設・場所名) nor the "
                    "standard dataset columns (ID, 名称)",
                    content[:2000],
                    "payload",
                )
            ]
        rows = (
            (f"row[{i}]", {(k or "").strip(): v for k, v in row.items()})
            for i, row in enumerate(reader)
        )
        return map_records(rows, build, raw=_csv_line)


def _csv_line(row: Any) -> str:
    out = io.StringIO()
    csv.writer(out).writerow(v if isinstance(v, str) else "" for v in row.values())
    return out.getvalue().rstrip("\r\n")
