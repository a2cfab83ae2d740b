"""Live opening status of Japanese evacuation shelters → ``occupancy`` and ``status``
(CATALOG §9, written from its description: no sample file exists).

There is no national machine-readable feed. Municipalities publish a page of the shelters
they opened, with the number of people in each and a time label in the Japanese era
(``令和6年9月2日午後6時``); volunteers turn it into CSV (the Nanao practice). Read here: a CSV
with a ``人数`` column, the shelter's ``共通ID`` or ``ID`` (the ids of the site lists, so the
same entities), optionally ``開設状況`` (開設 → open, 閉鎖/未開設 → closed, 満員 → full; a
listed shelter without it is open), and the time in a column (``日時``, ``更新日時``, ``時点``
…) or on a line above the header. Each row gives a partial PointOfInterest — ``occupancy``
and ``status`` with ``observedAt`` — that the runner merges into the stored shelter.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Callable
from typing import Any

from cityhub.ingest.feeds.ngsi import entity, prop
from cityhub.ingest.feeds.records import Entity, Item, RecordError, map_records
from cityhub.ingest.feeds.values import JST, integer, local_time, text

# Year 1 of each era (元年) is the Gregorian year after the one given here.
ERAS = {"令和": 2018, "平成": 1988, "昭和": 1925}
TIME_COLUMNS = ("日時", "更新日時", "時点", "集計日時", "発表日時", "時刻")
# The first word found decides; 未開設 must be looked at before 開設.
STATUS_WORDS = (
    ("満員", "full"),
    ("受入停止", "full"),
    ("未開設", "closed"),
    ("閉鎖", "closed"),
    ("閉設", "closed"),
    ("開設", "open"),
)
_LABEL = re.compile(
    r"(?:(令和|平成|昭和)(元|\d+)|(\d{4}))年(\d+)月(\d+)日(?:\([^)]*\))?"
    r"(午前|午後)?(\d+)(?:時|:)(?:(\d+)分?)?"
)


def era_time(raw: Any, field: str) -> str | None:
    """A Japanese time label (``令和6年9月2日午後6時``, ``2024年9月2日 18時30分``) as ISO 8601
    +09:00; None when there is no label in the text. 午前/午後 follow the 1872 decree still in
    use: 午前12時 is noon, 午後12時 midnight (the next day's 00:00)."""
    value = text(raw, field)
    if value is None:
        return None
    match = _LABEL.search(re.sub(r"\s", "", unicodedata.normalize("NFKC", value)))
    if match is None:
        return None
    era, era_year, western, month, day, half, hour, minute = match.groups()
    year = int(western) if not era else ERAS[era] + (1 if era_year == "元" else int(era_year))
    hours = int(hour) + (12 if half == "午後" else 0)
    if hours > 24 or (half and int(hour) > 12):
        raise RecordError(f"{field}: {raw!r} has no hour {hour}")
    moment = f"{year:04d}-{int(month):02d}-{int(day):02d} {hours:02d}:{int(minute or 0):02d}"
    return local_time(moment, field, ("%Y-%m-%d %H:%M",), JST)


def status_header(content: str) -> int | None:
    """The line number of a status CSV's header (the first of five lines naming 人数)."""
    for number, line in enumerate(content.splitlines()[:5]):
        if "人数" in next(csv.reader([line]), []):
            return number
    return None


def _people(raw: Any) -> int | None:
    value = text(raw, "人数")
    if value is None:
        return None
    return integer(re.sub(r"[人名\s]", "", unicodedata.normalize("NFKC", value)), "人数")


def status_items(
    content: str,
    header: int,
    identify: Callable[[dict[str, Any]], str],
    provider: str,
    source: str | None,
) -> list[Item]:
    """Partial shelter entities from a status CSV whose header is on line ``header``."""
    lines = content.splitlines()
    label = era_time(" ".join(lines[:header]), "time label") if header else None
    reader = csv.DictReader(io.StringIO("\n".join(lines[header:])))

    def build(row: dict[str, Any]) -> Entity:
        column = next((c for c in TIME_COLUMNS if row.get(c)), None)
        observed = era_time(row[column], column) if column else label
        if observed is None:
            raise RecordError("no time label (a 日時 column or a line above the header)")
        state = text(row.get("開設状況"), "開設状況")
        status = "open" if state is None else None
        for word, meaning in STATUS_WORDS:
            if state and word in state:
                status = meaning
                break
        if status is None:
            raise RecordError(f"開設状況: {state!r} is not a known opening status")
        return entity(
            identify(row),
            "PointOfInterest",
            occupancy=prop(_people(row.get("人数")), observed_at=observed),
            status=prop(status, observed_at=observed),
            dataProvider=prop(provider),
            source=prop(source),
        )

    rows = (
        (f"row[{i}]", {(k or "").strip(): v for k, v in row.items()})
        for i, row in enumerate(reader)
    )
    return map_records(rows, build)
