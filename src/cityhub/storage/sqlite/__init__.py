"""Embedded SQLite backend: one writer, pooled readers, WAL."""
