# Two commands do all set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test test-fast lint demo bench clean sysdeps

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# torch==2.13.0 is the CPU wheel on this machine's disk; pyproject keeps a range for CUDA users.
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e '.[gui,live,video,dev]'
	touch $(STAMP)

# Xvfb, OpenGL and Qt's xcb libraries: installed when missing (root or sudo + apt-get), else named in one line.
sysdeps:
	@bash tools/system_deps.sh

run: sysdeps $(STAMP)
	$(PY) main.py

demo: $(STAMP)
	$(PY) -m dcmae_core.train demo --preset demo --out runs/demo

test: sysdeps $(STAMP)
	$(PY) -m pytest -q

# everything but the tests marked slow (each over half a second: training runs, subprocesses, windows, GL)
test-fast: sysdeps $(STAMP)
	$(PY) -m pytest -q -m "not slow"

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

bench: $(STAMP)
	$(PY) bench/bench_read_skeleton.py

clean:
	rm -rf $(VENV) build *.egg-info
