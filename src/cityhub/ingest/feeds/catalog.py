"""Imports every built-in feed adapter so each registers itself (``base.register``)."""

from __future__ import annotations

from cityhub.ingest.feeds import (
    airkorea,  # noqa: F401
    cap,  # noqa: F401
    gtfs_rt,  # noqa: F401
    jma_amedas,  # noqa: F401
    jma_forecast,  # noqa: F401
    jma_quake_list,  # noqa: F401
    jma_xml,  # noqa: F401
    jp_shelters,  # noqa: F401
    kr_disaster,  # noqa: F401
    odpt,  # noqa: F401
    seoul_citydata,  # noqa: F401
    seoul_parking,  # noqa: F401
    seoul_traffic,  # noqa: F401
)
