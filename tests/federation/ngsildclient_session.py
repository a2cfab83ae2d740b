"""Run by tests/federation/test_interop.py with the interop venv's Python (ngsildclient needs
an older httpx than the hub, so it lives in .venv-interop): what a user of the PyPI client
does against a regional hub, printed as one JSON object."""

from __future__ import annotations

import json
import sys

from ngsildclient import Client  # type: ignore[import-not-found]

PARKING = (
    "https://raw.githubusercontent.com/smart-data-models/dataModel.Parking/master/context.jsonld"
)

PARKING_TYPE = "https://smartdatamodels.org/dataModel.Parking/OffStreetParking"


def main(port: int) -> None:
    client = Client(hostname="127.0.0.1", port=port, verbose=False)
    found = client.query(type="OffStreetParking", ctx=PARKING, q="availableSpotNumber>=11")
    one = client.get("urn:ngsi-ld:OffStreetParking:seoul:001", ctx=PARKING)
    print(
        json.dumps(
            {
                "ids": sorted(e["id"] for e in found),
                "free": one["availableSpotNumber"]["value"],
                # count() takes no @context: the type by its IRI
                "count": client.count(type=PARKING_TYPE),
            }
        )
    )


if __name__ == "__main__":
    main(int(sys.argv[1]))
