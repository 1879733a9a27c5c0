# The two commands a newcomer needs: `make up` (run the platform) and `make test` (run all tests).
# Everything they need is installed into .cache/ and .venv/ on first use.
SHELL := /bin/bash
UV_VERSION := 0.13.9
UV := .cache/uv/bin/uv
PY := .venv/bin/python

.PHONY: setup up down status logs test test-unit docs bench bench-reads clean integrator

$(UV):
	python3 -m venv .cache/uv
	.cache/uv/bin/pip install --quiet uv==$(UV_VERSION)

.venv/.synced: $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen --python python3.11
	touch $@

setup: .venv/.synced

up: setup
	deploy/stack.sh up
	deploy/services.sh up
	@deploy/services.sh status

down:
	-deploy/services.sh down
	deploy/stack.sh down

# A Kafka credential for an integrator on the dev stack: `make integrator NAME=acme` (READ_EVENTS=1: it may
# also read the events topics, which carry every account's events). Prints where its password is.
integrator: setup
	@[[ -n "$(NAME)" ]] || { echo "usage: make integrator NAME=<name> [READ_EVENTS=1]" >&2; exit 2; }
	deploy/stack.sh integrator $(NAME) $(if $(filter 1,$(READ_EVENTS)),--read-events)

status:
	@deploy/stack.sh status; deploy/services.sh status

logs:
	tail -n 50 -F .cache/stack-dev/services/*.log

test: setup
	bash deploy/run-tests.sh

test-unit: setup
	$(PY) -m pytest -m "not integration" -q

docs: setup
	$(PY) -m contracts.export

bench: setup
	bash deploy/run-tests.sh --bench $(BENCH_ARGS)

# The other benchmarks, each on the test stack like `make bench`: bench-<name> runs bench/<name>.py.
bench-%: setup
	BENCH_MODULE=bench.$* bash deploy/run-tests.sh --bench $(BENCH_ARGS)
