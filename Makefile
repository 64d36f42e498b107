# kafkagram: `make up` runs everything on this machine, `make test` runs every test.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: help install up test lint typecheck pytest bench status migrate lock clean compose-up compose-down deploy openapi

help:
	@echo "make up      start the broker, S3, migrations, and every function of template.yaml"
	@echo "make test    lint, type-check and run every test against real services"
	@echo "make bench   benchmarks, printed as tables"
	@echo "make status  per-function figures of the running runtime"
	@echo "make compose-up / compose-down   the Docker Compose path (Redpanda, LocalStack)"
	@echo "make deploy  sam validate, build and deploy to AWS (SAM CLI in its own virtualenv)"

install: $(STAMP)

# The virtualenv is rebuilt when the pinned dependencies change.
$(STAMP): pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -c requirements.lock -e '.[dev]'
	touch $(STAMP)

up: install
	$(BIN)/kafkagram up

migrate: install
	$(BIN)/kafkagram migrate

status: install
	$(BIN)/kafkagram status

lint: install
	$(BIN)/ruff check .
	$(BIN)/cfn-lint template.yaml
	$(BIN)/python -m kafkagram_local.openapi --check

typecheck: install
	$(BIN)/mypy emulator kafkagram_local layers/kafkagram/kafkagram handlers
	# Its own run: the API function's modules are top-level (app, routes, deps), as in Lambda's task root.
	$(BIN)/mypy functions/api
	$(BIN)/mypy functions/ws

pytest: install
	$(BIN)/pytest

test: lint typecheck pytest

bench: install
	$(BIN)/kafkagram bench

compose-up:
	docker compose up --build --wait

compose-down:
	docker compose down

# SAM CLI pins older boto3 and click: install it in its own virtualenv and point SAM at it.
SAM ?= sam
SAM_ENV ?= default
deploy:
	$(SAM) validate --lint
	$(SAM) build
	$(SAM) deploy --guided --config-env $(SAM_ENV)

# Regenerate docs/openapi.json after changing the API's routes or models.
openapi: install
	$(BIN)/python -m kafkagram_local.openapi

# Re-resolve the full pinned set after changing a dependency in pyproject.toml.
lock:
	rm -rf /tmp/kafkagram-lock && $(PYTHON) -m venv /tmp/kafkagram-lock
	/tmp/kafkagram-lock/bin/pip install --quiet '.[dev]'
	/tmp/kafkagram-lock/bin/pip freeze --exclude kafkagram > requirements.lock

clean:
	rm -rf $(VENV) .run .pytest_cache .mypy_cache .ruff_cache
