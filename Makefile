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

## dataset: generate the four configs, full size, into build/afro_mnist (about 5 minutes on 2 cores)
dataset: $(INSTALLED)
	$(BIN)/afro-mnist generate --out $(OUT) --overwrite

## push: publish build/afro_mnist to the Hub in one commit (REPO_ID=owner/afro_mnist; token from HF_TOKEN)
push: $(INSTALLED)
	@test -n "$(REPO_ID)" || { echo "make push: set REPO_ID=owner/name" >&2; exit 2; }
	$(BIN)/afro-mnist push --repo-id $(REPO_ID) --from $(OUT) $(PUSH_ARGS)

## test: lint, then the test suite
test: lint
	$(BIN)/python -m pytest

lint: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(INSTALLED)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

## bench: speed and memory of generation (several minutes; figures go in README.md)
bench: $(INSTALLED)
	$(BIN)/python benchmarks/generation.py

## bench-real: generated-to-real transfer on the Tamil and Malayalam development sets, with the ablation (about 50 minutes)
REAL_DIR ?= ../shared/data/realdigits
bench-real: $(INSTALLED)
	$(BIN)/python benchmarks/real_transfer.py --real-dir $(REAL_DIR)

clean:
	rm -rf $(VENV) build .pytest_cache .ruff_cache
