"""PostgreSQL 15 + PostGIS 3 backend (asyncpg)."""
