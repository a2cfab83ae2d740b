"""Open-data feed adapters: each fetches a public city feed and maps its records to FIWARE
Smart Data Models as NGSI-LD entities (see ``../shared/fixtures/CATALOG.md``).

A parser is a pure function from a payload to :data:`records.Item` values (an entity, or a
:class:`records.Rejected` saying why a record could not be mapped). Fetching, scheduling,
idempotent writing and dead letters are shared (``fetch.py``, ``runner.py``).
"""
