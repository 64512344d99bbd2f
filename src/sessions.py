"""Django's database session engine, with the database's error kept when it is gone.

Django's ``SessionStore.save()`` turns any database error of an update into ``UpdateError``,
which ``SessionMiddleware`` turns into a 400 ("the session was deleted"). When the update
failed because PostgreSQL is unreachable, this engine raises the database's error instead, so
the request gets the 503 page of ``src.middleware.DatabaseUnavailableMiddleware``.
"""

from django.contrib.sessions.backends import db
from django.contrib.sessions.backends.base import UpdateError

from src.middleware import database_unavailable


class SessionStore(db.SessionStore):
    def save(self, must_create: bool = False) -> None:
        try:
            super().save(must_create=must_create)
        except UpdateError as error:
            cause = error.__context__
            if cause is not None and database_unavailable(cause):
                raise cause from None
            raise
