# The two commands a user needs: `make dataset` and `make test`. Both build .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
OUT ?= build/afro_mnist

.PHONY: venv dataset push test lint format bench bench-real clean

$(INSTALLED): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[test,baseline,collect]"
	touch $@

venv: $(INSTALLED)

## dataset: generate the six built-in configs, full size, into build/afro_mnist (a few minutes on 2 cores: docs/results.md, Speed and memory)
dataset: $(INSTALLED)
	$(BIN)/afro-mnist generate --out $(OUT) --overwrite

## push: publish build/afro_mnist to the Hub in one commit, to REPO_ID of generator/settings.py unless
## REPO_ID=owner/name is given here; token from HF_TOKEN
push: $(INSTALLED)
	$(BIN)/afro-mnist push $(if $(REPO_ID),--repo-id $(REPO_ID)) --from $(OUT) $(PUSH_ARGS)

## test: lint, then the test suite
test: lint
	$(BIN)/python -m pytest

lint: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(INSTALLED)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

## bench: speed and memory of generation (several minutes; figures go in docs/results.md)
bench: $(INSTALLED)
	$(BIN)/python benchmarks/generation.py

## bench-real: generated-to-real transfer on the Tamil and Malayalam development sets, with the ablation (about 50 minutes);
## writes results/real_transfer.json, which the dataset card reads
REAL_DIR ?= ../shared/data/realdigits
bench-real: $(INSTALLED)
	$(BIN)/python benchmarks/real_transfer.py --real-dir $(REAL_DIR) --json results/real_transfer.json

clean:
	rm -rf $(VENV) build .pytest_cache .ruff_cache
