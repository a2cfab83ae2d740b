"""The @context each Smart Data Model type is written with.

One context per type, pinned (CATALOG §15: the same short term expands to different IRIs in
different contexts): the model's own repository context, then the NGSI-LD core. The hub ships
these documents (``cityhub/jsonld/bundled``) so feeds and the demo work offline.
"""

from __future__ import annotations

CORE = "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld"
_SDM = "https://raw.githubusercontent.com/smart-data-models/dataModel.{}/master/context.jsonld"

TRANSPORTATION = [_SDM.format("Transportation"), CORE]
PARKING = [_SDM.format("Parking"), CORE]
ALERT = [_SDM.format("Alert"), CORE]
ENVIRONMENT = [_SDM.format("Environment"), CORE]
WEATHER = [_SDM.format("Weather"), CORE]
POINT_OF_INTEREST = [_SDM.format("PointOfInterest"), CORE]

CONTEXT_OF_TYPE = {
    "TrafficFlowObserved": TRANSPORTATION,
    "CrowdFlowObserved": TRANSPORTATION,
    "RoadSegment": TRANSPORTATION,
    "EVChargingStation": TRANSPORTATION,
    "BikeHireDockingStation": TRANSPORTATION,
    "TransportStation": TRANSPORTATION,
    "RoadAccident": TRANSPORTATION,
    "Vehicle": TRANSPORTATION,
    "OffStreetParking": PARKING,
    "OnStreetParking": PARKING,
    "Alert": ALERT,
    "AirQualityObserved": ENVIRONMENT,
    "WeatherObserved": WEATHER,
    "WeatherForecast": WEATHER,
    "PointOfInterest": POINT_OF_INTEREST,
}


def context_of(entity_type: str) -> list[str]:
    """The pinned @context of a Smart Data Model type (unknown types: the core alone)."""
    return list(CONTEXT_OF_TYPE.get(entity_type, [CORE]))
