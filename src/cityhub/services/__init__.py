"""Use cases: each public method is one NGSI-LD operation, one transaction."""
