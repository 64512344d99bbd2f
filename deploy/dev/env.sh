# Sourced by the development scripts: where the database is, and the development settings.
if [ -z "${DATABASE_URL:-}" ]; then
  if [ -f var/database-url ]; then
    DATABASE_URL=$(cat var/database-url)
  else
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/suivi_social
  fi
fi
export DATABASE_URL
export DJANGO_ENV=${DJANGO_ENV:-development}
