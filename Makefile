# cmsync: `make run` starts the whole console on 127.0.0.1; `make test` runs every check.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test install lint format bench clean

$(STAMP): requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $(STAMP)

install: $(STAMP)

# The demo talks to the local sandbox; these point the product at it (override any in the shell).
run: export CMSYNC_CA_BUNDLE ?= $(CURDIR)/var/sandbox/ca.pem
run: export CM_API_BASE_URL ?= https://127.0.0.1:8701/api/v3.3
run: export CM_OAUTH_CLIENT_ID ?= cmsync-sandbox-client
run: export CM_OAUTH_CLIENT_SECRET ?= cmsync-sandbox-secret
run: export SF_LOGIN_URL ?= https://127.0.0.1:8702
run: export SF_CLIENT_ID ?= cmsync-sandbox-connected-app
run: export SF_CLIENT_SECRET ?= cmsync-sandbox-connected-secret
run: $(STAMP)
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py ensure_admin
	@echo "cmsync console: http://127.0.0.1:$${CMSYNC_PORT:-8000}/   (Ctrl-C stops web, worker, beat and sandbox)"
	@echo "The demo connects itself to the sandbox (Campaign Monitor :8701, Salesforce :8702) once it is up."
	$(BIN)/honcho start -f Procfile

# pytest runs through scripts/ensure_chromium: it installs Debian's chromium when it may, else the
# browser tests skip with one line saying why and how to fix it.
test: $(STAMP)
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache
	scripts/ensure_chromium $(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(STAMP)
	$(BIN)/python manage.py bench_sync

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
