# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
DEV := MATCHMAKER_ENV=development

.PHONY: run serve test coverage test-postgres test-browser bench bench-web bench-load lint typecheck format \
	migrate demo clean translations check-translations vendor

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed-app: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.installed-app

# Browser tests: Playwright from PyPI drives Debian's Chromium (apt-get install chromium);
# axe-core comes from npm. Playwright never downloads a browser of its own here.
$(VENV)/.installed-browser: pyproject.toml package.json package-lock.json | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test,browser]'
	npm ci --no-audit --no-fund --silent
	touch $@ $(VENV)/.installed-test $(VENV)/.installed-app

run: $(VENV)/.installed-app
	$(DEV) $(FLASK) db upgrade
	$(DEV) $(FLASK) demo load --if-empty
	$(DEV) $(FLASK) run --host 127.0.0.1 --port 5000

# The production topology on this machine (docs/deploy.md): gunicorn with 4 workers, one Celery
# worker and the scheduler, against PostgreSQL and Redis. When one of them stops, or on Ctrl-C,
# the others are stopped too.
SERVE_ENV := MATCHMAKER_ENV=production MATCHMAKER_SECURE_COOKIES=false \
	MATCHMAKER_MAIL_BACKEND=$${MATCHMAKER_MAIL_BACKEND:-console} \
	MATCHMAKER_DATABASE_URL=$${MATCHMAKER_DATABASE_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/matchmaker} \
	MATCHMAKER_BROKER_URL=$${MATCHMAKER_BROKER_URL:-redis://127.0.0.1:6379/0} \
	MATCHMAKER_RATELIMIT_STORAGE_URL=$${MATCHMAKER_RATELIMIT_STORAGE_URL:-redis://127.0.0.1:6379/1} \
	MATCHMAKER_CACHE_URL=$${MATCHMAKER_CACHE_URL:-redis://127.0.0.1:6379/2} \
	MATCHMAKER_SECRET_KEY=$${MATCHMAKER_SECRET_KEY:-$$(cat instance/serve-secret-key)}

SERVE_PORT ?= 8000

serve: $(VENV)/.installed-app
	@mkdir -p instance
	@test -s instance/serve-secret-key || $(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(48))' > instance/serve-secret-key
	$(SERVE_ENV) $(BIN)/flask --app matchmaker db upgrade
	$(SERVE_ENV) bash -c 'trap "kill \$$(jobs -p) 2>/dev/null" EXIT; \
	  $(BIN)/gunicorn --workers 4 --bind 127.0.0.1:$(SERVE_PORT) "matchmaker:create_app()" & \
	  $(BIN)/celery -A matchmaker.jobs worker --loglevel=INFO & \
	  $(BIN)/celery -A matchmaker.jobs beat --loglevel=INFO --schedule instance/celerybeat-schedule & \
	  wait -n'

# The suite runs in one process a core (pytest-xdist; each has a database of its own, see
# tests/conftest.py). PYTEST_WORKERS=0 runs it in this one process.
PYTEST_WORKERS ?= auto
PYTEST_PARALLEL := -n $(PYTEST_WORKERS) --dist loadgroup
# Each worker imports the package and the test modules: with PYTHONDONTWRITEBYTECODE set (as
# in some shells) it compiled them and rewrote the tests' asserts again on every run, about
# 6 s of a worker's CPU under coverage. The caches go to __pycache__/ folders (ignored by git).
PYTEST := PYTHONDONTWRITEBYTECODE= $(BIN)/pytest

test: $(VENV)/.installed-test
	$(PYTEST) -m "not browser" $(PYTEST_PARALLEL)

# The same suite under coverage's tracer (branches too), held to the floor in pyproject.toml; on
# the database MATCHMAKER_TEST_DATABASE_URL names, SQLite if none (.ci/run: PostgreSQL).
coverage: $(VENV)/.installed-test
	$(PYTEST) -m "not browser" $(PYTEST_PARALLEL) --cov --cov-report=term-missing:skip-covered

test-browser: $(VENV)/.installed-browser
	$(BIN)/pytest -m browser tests/browser

bench: $(VENV)/.installed-app
	$(BIN)/python bench/matcher.py
	$(BIN)/python bench/quality.py

# Pages under load (bench/web.py): wrk against gunicorn on SQLite and PostgreSQL, beside a
# hello-world app. Needs Debian's wrk, PostgreSQL and Redis; the 50,000-listing databases are
# built once and kept (instance/bench-web/, the database bench_web).
bench-web: $(VENV)/.installed-app
	@command -v wrk >/dev/null || apt-get install -y -qq wrk
	$(BIN)/python bench/web.py $(BENCH_WEB_ARGS)

$(VENV)/.installed-bench: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	touch $@ $(VENV)/.installed-app

# Load and fault benchmark (bench/load.py): rebuilds the PostgreSQL database bench_load and
# runs gunicorn, a Celery worker, the scheduler and an SMTP sink on ports 8100 and 8125, with
# Redis databases 5 (queue) and 6 (rate limits). About 6 minutes.
bench-load: $(VENV)/.installed-bench
	$(BIN)/python bench/load.py

test-postgres: $(VENV)/.installed-test
	MATCHMAKER_TEST_DATABASE_URL=$${MATCHMAKER_TEST_DATABASE_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/test} $(PYTEST) -m "not browser" $(PYTEST_PARALLEL)

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(VENV)/.installed-test
	$(BIN)/mypy

format: $(VENV)/.installed-test
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

migrate: $(VENV)/.installed-app
	$(DEV) $(FLASK) db upgrade

demo: $(VENV)/.installed-app
	$(DEV) $(FLASK) demo load

# Translations: strings marked with _(), _l(), ngettext() in matchmaker/ and templates/, and
# pgettext() or lazy_pgettext() where one English word needs two translations (its context).
# `make translations` adds new strings to every catalog (then translate them: the tests fail
# while a message is untranslated or fuzzy) and compiles the .mo files the app and wheel use.
# `make check-translations` (CI) fails when a marked string is missing from a catalog.
CATALOGS := matchmaker/translations
POT := $(VENV)/messages.pot
EXTRACT := $(BIN)/pybabel -q extract -F babel.cfg -k _l -k lazy_gettext -k lazy_ngettext:1,2 \
	-k lazy_pgettext:1c,2 \
	--no-location --sort-by-file --project "SSE Matchmaker" -o $(POT) .
UPDATE := $(BIN)/pybabel -q update -i $(POT) -d $(CATALOGS) --no-fuzzy-matching \
	--ignore-obsolete --ignore-pot-creation-date

translations: $(VENV)/.installed-app
	$(EXTRACT)
	$(UPDATE)
	$(BIN)/pybabel -q compile -d $(CATALOGS)

check-translations: $(VENV)/.installed-app
	$(EXTRACT)
	@$(UPDATE) --check 2>/dev/null || { echo "A marked string is missing from the catalogs" \
		"(or one was removed): run make translations, then translate what it added." >&2; exit 1; }

# Front-end files the app serves itself (no CDN), copied from npm packages pinned in
# package.json and committed: Swagger UI for the API documentation at /api/v1/docs, and the
# Lucide icons the pages use (a sprite of the ones named in the code, scripts/build_icons.py).
SWAGGER_UI := matchmaker/static/vendor/swagger-ui
vendor: $(VENV)/.installed-app
	npm ci --no-audit --no-fund --silent
	mkdir -p $(SWAGGER_UI)
	cd node_modules/swagger-ui-dist && cp swagger-ui-bundle.js swagger-ui-bundle.js.LICENSE.txt \
		swagger-ui.css LICENSE NOTICE ../../$(SWAGGER_UI)/
	$(BIN)/python scripts/build_icons.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache .coverage node_modules screenshots
