"""Query languages (q, scopeQ, geoQ, attrs/pick/omit) parsed to one AST; no I/O here."""
