# Set-up is part of every target: a fresh clone needs nothing but Python 3.11+ and make.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The CPU build of torch lies on disk here; any other torch would pull GBs of CUDA.
WHEELS := $(wildcard /opt/wheels)
PIP := $(BIN)/pip install -q $(if $(WHEELS),--find-links $(WHEELS))

.PHONY: demo serve test bench eval eval-redaction train lint clean

# The light core (README "Install"): the engine, analyze, audit, demo.
$(BIN)/empathy: pyproject.toml
	$(PY) -m venv $(VENV)
	$(PIP) --upgrade pip
	$(PIP) -e .
	touch $@

# Each target gets the extras it runs; the tests and the lint get every one.
$(VENV)/.serve: $(BIN)/empathy
	$(PIP) -e '.[serve]'
	touch $@

$(VENV)/.voice: $(BIN)/empathy
	$(PIP) -e '.[voice]'
	touch $@

$(VENV)/.dev: $(BIN)/empathy
	$(PIP) -e '.[all,dev,train]'
	touch $@

demo: $(BIN)/empathy          ## play the built-in calls in the terminal
	$(BIN)/empathy demo --speed 4

serve: $(VENV)/.serve         ## the live service with the built-in calls: open http://127.0.0.1:8000/supervisor
	$(BIN)/empathy serve --demo

test: $(VENV)/.dev            ## the whole test suite
	$(BIN)/python -m pytest

bench: $(VENV)/.voice         ## latency, throughput, memory and per-call state budgets
	$(BIN)/empathy bench

eval: $(VENV)/.dev            ## dev-set figures of both bundled models, the probes, and the baselines
	$(BIN)/python training/evaluate.py --model text-emotion-v2 --json runs/eval-v2.json
	$(BIN)/python training/evaluate.py --model text-emotion-v3 --json runs/eval-v3.json

eval-redaction: $(BIN)/empathy  ## PII redaction: recall per entity, false positives per turn (docs/security.md)
	$(BIN)/python training/evaluate_redaction.py --json runs/redaction.json

lint: $(VENV)/.dev             ## ruff over the code, mypy over src (settings in pyproject.toml)
	$(BIN)/ruff check src tests training
	$(BIN)/mypy src

clean:
	rm -rf $(VENV) build dist src/*.egg-info
