# loyaltylab — the front door. `make reports` and `make test` set everything up on a machine with Python 3.11 + pip.
PYTHON    ?= python3
VENV      := .venv
BIN       := $(VENV)/bin
STAMP     := $(VENV)/.installed
DATA_DIR  := data/course
DATA      := $(DATA_DIR)/truth.json
CUSTOMERS ?= 20000
SEED      ?= 42
J         ?= 1
REPORT_ARGS ?=
REPORT_LANGUAGE ?=

.PHONY: help setup reports test lab data bench lint clean student grade

help:
	@echo "make reports   run every notebook in reports.yml into reports/ (J=2 for two workers; REPORT_LANGUAGE=zh 中文, both)"
	@echo "make test      run the test suite"
	@echo "make lab       open JupyterLab on notebooks/"
	@echo "make data      regenerate the course dataset (CUSTOMERS=$(CUSTOMERS) SEED=$(SEED))"
	@echo "make bench     print the benchmark figures"
	@echo "make lint      ruff"
	@echo "make student   student notebooks, a course world each, answer keys (STUDENTS=roster.csv or a count;"
	@echo "               STUDENT_LANGUAGE=zh: the notebooks' language parameter set to Chinese)"
	@echo "make grade     execute returned notebooks (RETURNED=returned/) and write grades.csv"
	@echo "make clean     remove generated outputs"

setup: $(STAMP)

# Reinstall only when the dependency list changes. The first install takes several minutes: pip shows progress.
$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "loyaltylab needs Python 3.11 or newer")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "Installing the pinned dependencies into $(VENV)/ (first time: about 5-10 minutes on 2 cores)..."
	$(BIN)/python -m pip install --disable-pip-version-check --progress-bar on -e ".[dev]"
	@git rev-parse --is-inside-work-tree >/dev/null 2>&1 && \
		git config filter.nbstrip.clean "$(PYTHON) .githooks/strip_outputs.py" && \
		git config filter.nbstrip.smudge cat || true
	@touch $@

$(DATA): lib/loyaltylab/synth.py | $(STAMP)
	$(BIN)/python -m loyaltylab data --customers $(CUSTOMERS) --seed $(SEED) --out $(DATA_DIR)

data: $(STAMP)
	$(BIN)/python -m loyaltylab data --customers $(CUSTOMERS) --seed $(SEED) --out $(DATA_DIR)

reports: $(STAMP) $(DATA)
	$(BIN)/python -m loyaltylab report -j $(J) $(if $(REPORT_LANGUAGE),-p language=$(REPORT_LANGUAGE)) $(REPORT_ARGS)

test: $(STAMP)
	$(BIN)/python -m pytest -n 2 -q

# LAB_ARGS="--no-browser --port 8890" passes options through; root (containers) needs --allow-root.
LAB_ARGS ?=
lab: $(STAMP) $(DATA)
	$(BIN)/jupyter lab --notebook-dir=. --LabApp.default_url=/lab/tree/notebooks $$([ "$$(id -u)" = 0 ] && echo --allow-root) $(LAB_ARGS)

bench: $(STAMP) $(DATA)
	$(BIN)/python benchmarks/run.py

# Teaching edition (docs/teaching.md). STUDENTS: a roster CSV (student_id, name) or a number of students.
STUDENTS          ?= 3
STUDENT_DIR       ?= student
STUDENT_CUSTOMERS ?= 5000
RETURNED          ?= returned
STUDENT_LANGUAGE  ?=
student: $(STAMP)
	$(BIN)/python -m loyaltylab student $(if $(wildcard $(STUDENTS)),--students "$(STUDENTS)",--count $(STUDENTS)) \
		--customers $(STUDENT_CUSTOMERS) --seed $(SEED) --out $(STUDENT_DIR) \
		$(if $(STUDENT_LANGUAGE),--set language=$(STUDENT_LANGUAGE))

grade: $(STAMP)
	$(BIN)/python -m loyaltylab grade --in $(RETURNED) --key $(STUDENT_DIR)/answer_keys --out grades.csv

lint: $(STAMP)
	$(BIN)/ruff check lib tests benchmarks notebooks

clean:
	find reports -mindepth 1 ! -name .gitkeep -exec rm -rf {} +
	rm -rf $(DATA_DIR) data/bench .pytest_cache .ruff_cache
	find . -name __pycache__ -not -path './$(VENV)/*' -exec rm -rf {} +
