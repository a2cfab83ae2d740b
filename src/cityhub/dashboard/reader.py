"""Reading stored entities (internal form: attribute IRIs → instances) by the short names of a
Smart Data Model, for the dashboard's features, summaries and details.

Going straight from the stored form avoids rendering whole entities: a map of 10,000
features is read, not compacted (docs/dashboard.md: the map must be complete within 2 s).
"""

from __future__ import annotations

from typing import Any

from cityhub.dashboard.i18n import pick_text
from cityhub.jsonld.termmap import TermMap

LOCATION = "https://uri.etsi.org/ngsi-ld/location"
TIME_NAMES = ("dateObserved", "observationDateTime", "dateIssued")


class Reader:
    """One entity, read through one @context's term map."""

    __slots__ = ("entity", "iris", "tm")

    def __init__(self, entity: dict[str, Any], tm: TermMap, iris: dict[str, str]) -> None:
        self.entity = entity
        self.tm = tm
        self.iris = iris  # short name -> IRI, shared by every reader of a layer

    def iri(self, name: str) -> str:
        found = self.iris.get(name)
        if found is None:
            found = self.iris[name] = self.tm.expand(name)
        return found

    def instance(self, name: str) -> dict[str, Any] | None:
        instances = self.entity.get(self.iri(name))
        if not instances:
            return None
        for instance in instances:  # the default instance (no datasetId) first
            if "datasetId" not in instance:
                return dict(instance)
        return dict(instances[0])

    def value(self, name: str) -> Any:
        instance = self.instance(name)
        if instance is None:
            return None
        kind = instance.get("type")
        if kind == "Relationship":
            return instance.get("object")
        if kind == "LanguageProperty":
            return instance.get("languageMap")
        if kind == "VocabProperty":
            return instance.get("vocab")
        value = instance.get("value")
        if isinstance(value, dict) and "@value" in value:
            return value["@value"]
        return value

    def number(self, name: str) -> float | None:
        value = self.value(name)
        if isinstance(value, bool) or not isinstance(value, int | float):
            return None
        return float(value)

    def boolean(self, name: str) -> bool | None:
        value = self.value(name)
        return value if isinstance(value, bool) else None

    def text(self, name: str, preference: tuple[str, ...]) -> str | None:
        value = self.value(name)
        if isinstance(value, dict):
            return pick_text(value, preference)
        if isinstance(value, str):
            return value
        if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
            return ", ".join(value)
        return None

    def geometry(self) -> dict[str, Any] | None:
        instances = self.entity.get(LOCATION)
        if not instances:
            return None
        geometry = instances[0].get("value")
        return geometry if isinstance(geometry, dict) else None

    def observed_at(self) -> str | None:
        """When the entity was last observed: its latest observedAt, else its time attribute."""
        times = [
            instance["observedAt"]
            for key, instances in self.entity.items()
            if ":" in key
            for instance in instances
            if isinstance(instance, dict) and "observedAt" in instance
        ]
        if times:
            return max(times)
        for name in TIME_NAMES:
            value = self.value(name)
            if isinstance(value, str):
                return value
        return None

    def short_type(self) -> str:
        return self.tm.compact(self.entity["type"][0])
