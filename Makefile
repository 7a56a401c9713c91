# Two entry points for newcomers: `make reproduce` and `make test`.
# Both create .venv on first use and install the pinned stack into it.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
CORES ?= 2

.PHONY: install reproduce full test lint lock clean

$(BIN)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24"
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	$(BIN)/python -m pip check
	$(BIN)/python -m hh_models.mechanisms
	touch $@

install: $(BIN)/.installed

reproduce: install  ## whole pipeline on the quick config, then the HTML report
	$(BIN)/snakemake --cores $(CORES) --configfile config/quick.yaml
	$(BIN)/snakemake --report results/report.html --configfile config/quick.yaml

full: install  ## the paper protocol (a GPU helps), then the HTML report
	$(BIN)/snakemake --cores 8
	$(BIN)/snakemake --report results/report.html

test: install
	$(BIN)/python -m pytest

lint: install  ## ruff (Python), snakefmt (rule files), Snakemake's own linter
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/snakefmt --check Snakefile workflow/rules
	$(BIN)/snakemake --lint --configfile config/quick.yaml

lock: install  ## refresh constraints.txt from the current venv
	$(BIN)/python -m pip freeze --exclude-editable | sed 's/+cpu$$//' > constraints.txt

clean:
	rm -rf results .snakemake build
