"""Create the database named in DATABASE_URL if it does not exist yet."""

import os
import sys
from urllib.parse import urlparse

import psycopg
from psycopg import sql

url = urlparse(os.environ["DATABASE_URL"])
name = url.path.lstrip("/")
admin_url = url._replace(path="/postgres").geturl()

with psycopg.connect(admin_url, autocommit=True) as connection:
    exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
    if not exists:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        print(f"Created database {name}.", file=sys.stderr)
