"""CityHub: an open smart-city data platform speaking the ETSI NGSI-LD API."""

__version__ = "0.1.0"
