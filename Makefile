# naryad: the two commands are `make run` and `make test` (see README.md).
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# A private PostgreSQL cluster under .local/pg unless NARYAD_DATABASE_URL names another server.
PRIVATE_PG := $(if $(NARYAD_DATABASE_URL),,1)
export NARYAD_DATABASE_URL ?= postgresql+asyncpg://naryad:naryad@127.0.0.1:$(or $(NARYAD_PG_PORT),54329)/naryad
export NARYAD_S3_EMULATOR_PORT ?= 59000

.PHONY: help venv db migrate seed run serve worker cluster cluster-stop test lint format openapi i18n bench stop clean

help:
	@echo "make run    - set up everything and serve the API on http://127.0.0.1:8000"
	@echo "make cluster- HAProxy on :8080 in front of 2 API processes, 2 workers, PgBouncer, S3 emulator"
	@echo "make test   - set up everything (plus the S3 emulator) and run the whole suite"
	@echo "make lint   - ruff and mypy"
	@echo "make bench  - performance figures as ratios"
	@echo "make openapi- regenerate openapi.yaml"
	@echo "make i18n   - extract texts into the gettext catalogs and compile them"
	@echo "make stop   - stop the cluster, the private PostgreSQL and the S3 emulator"

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $(STAMP)

venv: $(STAMP)

db: venv
	@NARYAD_PRIVATE_PG=$(or $(PRIVATE_PG),0) bash infra/system-deps.sh $(or $(PROFILE),run)
	@$(if $(PRIVATE_PG),bash infra/pg.sh start,true)
	@$(BIN)/naryad db wait

migrate: db
	@$(BIN)/naryad db upgrade
	@$(BIN)/naryad calendar refresh
	@$(BIN)/naryad checklists publish

seed: migrate
	@$(BIN)/naryad demo seed --if-empty

run: seed
	@$(BIN)/naryad acts dev-seal-cert >/dev/null
	@echo
	@echo "  naryad API     http://127.0.0.1:$(or $(NARYAD_PORT),8000)"
	@echo "  OpenAPI UI     http://127.0.0.1:$(or $(NARYAD_PORT),8000)/schema"
	@echo "  board          http://127.0.0.1:$(or $(NARYAD_PORT),8000)/board (coordinator)"
	@echo "  dispatch       http://127.0.0.1:$(or $(NARYAD_PORT),8000)/dispatch (dispatcher)"
	@echo "  tech app       http://127.0.0.1:$(or $(NARYAD_PORT),8000)/app/ (technician, on a phone)"
	@echo "  demo logins    admin, dispatcher, dispatcher-ala/-nqz/-bax, coordinator, supervisor, tech1 ... tech20"
	@echo "  password       demo-password"
	@echo
	@# The development seal only when no certificate of the operator's is configured.
	@if [ -z "$${NARYAD_SEAL_PKCS12:-}" ]; then \
		export NARYAD_SEAL_PKCS12=$(CURDIR)/.local/seal/dev-seal.p12; \
		export NARYAD_SEAL_PASSPHRASE_FILE=$(CURDIR)/.local/seal/dev-seal.pass; \
	fi; exec $(BIN)/naryad serve --with-worker

# The scale-out topology on this machine (README "Production and scale-out"); sizes and ports
# from NARYAD_CLUSTER_* (see infra/cluster.sh). `make cluster` again restarts dead processes.
cluster: PROFILE = cluster
cluster: seed
	@bash infra/cluster.sh start

cluster-stop:
	@bash infra/cluster.sh stop

test: PROFILE = test
test: migrate
	@bash infra/s3.sh start
	NARYAD_S3_ENDPOINT_URL=http://127.0.0.1:$(NARYAD_S3_EMULATOR_PORT) \
		$(BIN)/pytest -q -p no:cacheprovider $(PYTEST_ARGS)

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: venv
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

openapi: venv
	$(BIN)/naryad openapi

# Texts: extract msg()/gettext calls from the code and templates into the .pot; when the set of
# texts changed, merge it into each language's .po (translations and translator comments are
# kept); compile the .mo files. An unchanged set leaves the files alone (no date-only churn).
# The .mo files are committed, so an installed package needs no build step; a test fails when
# one is older than its .po.
I18N_DOMAINS := naryad:service/locale:service/locale/babel.cfg reports:reports/locale:reports/locale/babel.cfg
i18n: venv
	@set -e; for spec in $(I18N_DOMAINS); do \
		IFS=: read -r domain dir cfg <<< "$$spec"; \
		$(BIN)/pybabel -q extract -F $$cfg -k msg:1c,2 -k _msg:1c,2 --no-location --sort-output \
			--project naryad -o $$dir/$$domain.pot.new .; \
		if [ -f $$dir/$$domain.pot ] && cmp -s <(grep -v '^"POT-Creation-Date' $$dir/$$domain.pot) \
				<(grep -v '^"POT-Creation-Date' $$dir/$$domain.pot.new); then \
			rm $$dir/$$domain.pot.new; \
		else \
			mv $$dir/$$domain.pot.new $$dir/$$domain.pot; \
			for lang in ru kk en; do \
				if [ -f $$dir/$$lang/LC_MESSAGES/$$domain.po ]; then \
					$(BIN)/pybabel update -i $$dir/$$domain.pot -d $$dir -D $$domain -l $$lang \
						--no-fuzzy-matching --ignore-obsolete -w 100; \
				else \
					$(BIN)/pybabel init -i $$dir/$$domain.pot -d $$dir -D $$domain -l $$lang -w 100; \
				fi; \
			done; \
		fi; \
		$(BIN)/pybabel compile -d $$dir -D $$domain --statistics; \
	done

bench: PROFILE = bench
bench: migrate
	@$(BIN)/pip install --quiet -e '.[dev,bench]'
	@bash infra/s3.sh start
	NARYAD_S3_ENDPOINT_URL=http://127.0.0.1:$(NARYAD_S3_EMULATOR_PORT) $(BIN)/python -m tests.bench

stop: cluster-stop
	@bash infra/s3.sh stop
	@bash infra/pg.sh stop

clean: stop
	rm -rf .local $(VENV)
