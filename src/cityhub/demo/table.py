"""Which real samples the demo plays, into which city, and how (``samples/SOURCES.md``)."""

from __future__ import annotations

from cityhub.demo.replay import SAMPLES, Sample, samples_dir

# Tokyo's AMeDAS stations (codes 44xxx: the 23 wards, Tama and the islands): enough for a
# city map; the sample holds all 1,295 stations of Japan.
TOKYO_STATIONS_PREFIX = "44"


def _tokyo_stations() -> list[str]:
    import orjson

    table = orjson.loads(samples_dir().joinpath("tokyo/amedastable.json").read_bytes())
    return sorted(code for code in table if code.startswith(TOKYO_STATIONS_PREFIX))


def demo_samples() -> list[Sample]:
    jma_xml = [
        "15_12_01_161130_VPWW53.xml",
        "15_17_01_250630_VPWW55.xml",
        "17_01_01_190529_VXWW50.xml",
        "18_03_01_190412_VPOA50.xml",
        "20210217140808_0_VXSE51_010000.xml",
        "20210217140847_0_VXSE52_010000.xml",
        "20210217140958_0_VXSE53_010000.xml",
        "32-39_12_02_191025_VTSE41.xml",
    ]
    return [
        Sample("seoul", "seoul-citydata", ("seoul/citydata.json",), varied=True),
        Sample(
            "tokyo",
            "jma-amedas",
            ("tokyo/amedas-map-20210224150000.json",),
            {
                "station_table": str(samples_dir().joinpath("tokyo/amedastable.json")),
                "stations": _tokyo_stations(),
            },
            varied=True,
        ),
        Sample("tokyo", "jma-forecast", ("tokyo/forecast-130000.json",)),
        # Official samples are mostly drills (訓練); the demo shows them, labelled replayed.
        Sample(
            "tokyo",
            "jma-xml",
            tuple(f"tokyo/jma-xml/{name}" for name in jma_xml),
            {"include_drills": True},
        ),
        Sample("tokyo", "jp-shelters", ("tokyo/gsi-emergency-131016.geojson",)),
        Sample("tokyo", "odpt", ("tokyo/TrainInformationHibiya.v2.json",)),
    ]


def register_samples() -> None:
    """Fill the replay's sample list (once)."""
    if not SAMPLES:
        SAMPLES.extend(demo_samples())
