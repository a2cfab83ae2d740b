"""JSON-LD @context handling: the bundled core context, remote fetching with limits, and
compiled term maps that expand and compact names on the request path without a full JSON-LD
processor (clause 5.5.7)."""
