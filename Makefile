# The README's commands. `make help` lists them.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.DEFAULT_GOAL := help
.PHONY: help up test lint format system-deps kafka-jars clean

help: ## list the commands
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(STAMP): requirements.txt requirements-dev.txt
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "Python 3.11 is required, found " + sys.version' 
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -r requirements-dev.txt
	touch $(STAMP)

system-deps: ## install Java and Maven with apt-get when they are missing
	@if ! command -v java >/dev/null || ! command -v mvn >/dev/null; then \
		echo "installing Java and Maven (apt-get) ..."; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jre-headless maven; \
	fi

kafka-jars: system-deps $(STAMP) ## fetch the Apache Kafka jars from Maven Central (once)
	$(BIN)/python -m devkit.kafka_broker fetch

up: kafka-jars ## run the whole platform locally: Kafka, control plane, worker, demo receiver
	$(BIN)/python -m devkit.up

lint: $(STAMP) ## ruff, Django checks, migrations up to date
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python manage.py check
	$(BIN)/python manage.py makemigrations --check --dry-run

test: kafka-jars lint ## the full test suite against a real Kafka broker (what CI runs)
	$(BIN)/python -m pytest

format: $(STAMP) ## format and autofix
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean: ## remove the local platform's data (Kafka topics, database); keeps the jars
	rm -rf .local
