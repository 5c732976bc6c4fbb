"""`make test` runs on PostgreSQL only: fail at once, and say how to start it, when it is down."""

import os
import sys

import environ
import psycopg2

HOW_TO_START = (
    "PostgreSQL is not reachable at {where}.\n"
    "The test suite runs on PostgreSQL only (never a silent SQLite fallback).\n"
    "Start it, e.g.:  pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start\n"
    "or point DATABASE_URL at a reachable server (postgres://user@host:5432/dbname)."
)


def main() -> int:
    url = os.environ.get("DATABASE_URL", "")
    config = environ.Env.db_url_config(url) if url else {}
    if config.get("ENGINE") != "django.db.backends.postgresql":
        print(f"DATABASE_URL must be a postgres:// URL for the test suite, got {url!r}", file=sys.stderr)
        return 2
    where = f"{config.get('HOST') or 'localhost'}:{config.get('PORT') or 5432}"
    try:
        psycopg2.connect(
            dbname="postgres",
            user=config.get("USER") or None,
            password=config.get("PASSWORD") or None,
            host=config.get("HOST") or None,
            port=config.get("PORT") or None,
            connect_timeout=3,
        ).close()
    except psycopg2.OperationalError as exc:
        print(HOW_TO_START.format(where=where), file=sys.stderr)
        print(f"({exc})".strip(), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
