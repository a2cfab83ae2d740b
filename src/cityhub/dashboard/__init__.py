"""The city dashboard (issue 7): the page, its message catalogs and its read-only JSON API
(docs/dashboard.md). It reads through the services like any other client of the store."""
