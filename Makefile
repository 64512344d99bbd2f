# The README's commands. Each target sets up what it needs on a fresh machine.
.PHONY: run test lint format

run:
	deploy/dev/run.sh

test:
	deploy/dev/test.sh

lint:
	deploy/dev/setup.sh
	.venv/bin/ruff check src tenants core tests benchmarks
	.venv/bin/ruff format --check src tenants core tests benchmarks
	DJANGO_ENV=test .venv/bin/python manage.py makemigrations --check --dry-run

format:
	deploy/dev/setup.sh
	.venv/bin/ruff format src tenants core tests benchmarks
	.venv/bin/ruff check --fix src tenants core tests benchmarks
