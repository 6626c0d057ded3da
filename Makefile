# The two commands of the README:
#   make run   installs the language servers (but the slow rust-analyzer build), builds the
#              release binary and writes tree.jsonl: semantic trees of fixtures/ (18 languages)
#   make test  installs what the tests need (test tools, language servers) and runs every
#              test, fmt and clippy
CARGO ?= cargo
# Tests, clippy and CI build every feature (cloud back ends...), always the same set, so
# nothing is compiled twice.
FEATURES ?= --all-features
TOOLS ?= $(HOME)/.cache/disco/tools

.PHONY: run test setup build lint fmt bench bench-lakehouse bench-sql bench-lsp-scale clean vsix

run:
	DISCO_TOOLS=$(TOOLS) SKIP_RUST_ANALYZER=1 scripts/setup-servers.sh
	$(CARGO) build --release
	DISCO_TOOLS=$(TOOLS) ./target/release/disco tree fixtures --lsp symbols -o tree.jsonl
	@echo "wrote tree.jsonl ($$(wc -l < tree.jsonl) files)"

setup:
	DISCO_TOOLS=$(TOOLS) scripts/setup.sh
	DISCO_TOOLS=$(TOOLS) scripts/setup-servers.sh
	# A single-node Slurm on 127.0.0.1 for the array-job test (Debian packages; idempotent).
	scripts/slurm.sh start

test: setup
	$(CARGO) fmt --all -- --check
	cd editors/vscode && npm ci --no-audit --no-fund --loglevel=error && npm test && npm run package
	# clippy before the tests: a cargo probe cached after the S3 tests once replayed
	# moto's banner as rustc's input (see the issue notes); this order avoids it.
	$(CARGO) clippy $(FEATURES) --all-targets -- -D warnings
	eval "$$(DISCO_TOOLS=$(TOOLS) scripts/setup.sh --env)" && eval "$$(scripts/slurm.sh env)" && \
	  DISCO_TOOLS=$(TOOLS) DISCO_REQUIRE_S3=1 DISCO_REQUIRE_SERVERS=1 DISCO_REQUIRE_PIPELINE=1 \
	  DISCO_REQUIRE_SLURM=1 \
	  $(CARGO) test $(FEATURES)
	# End to end: the .vsix in code-server, driven by headless Chromium, against the debug
	# binary the tests built ("Disco: Show Semantic Tree" on a Python file).
	DISCO_TOOLS=$(TOOLS) scripts/setup-e2e.sh
	DISCO_TOOLS=$(TOOLS) node editors/vscode/e2e/run.mjs --disco "$${CARGO_TARGET_DIR:-target}/debug/disco"

vsix:
	cd editors/vscode && npm ci --no-audit --no-fund --loglevel=error && npm run package

lint:
	$(CARGO) clippy $(FEATURES) --all-targets -- -D warnings

fmt:
	$(CARGO) fmt --all

bench:
	bench/tree.sh

# Disco against deltalake + pyarrow on a 1-million-row Delta table (issue 8); the Python venv
# comes from `make setup`.
bench-lakehouse:
	DISCO_PY=$(TOOLS)/pyvenv/bin/python bench/lakehouse.sh

# `disco sql` against DuckDB and polars: a group-by over a 1-million-row Parquet table
# (issue 13); DuckDB is installed into the venv on first use.
bench-sql:
	DISCO_PY=$(TOOLS)/pyvenv/bin/python bench/sql.sh

# `--lsp full` and `--lsp symbols` against scip-python and a multilspy client on the requests
# 2.32.3 sdist, and `--lsp full` against scip-typescript on mobx 6.13.5 (issue 10); LANGS=python
# or LANGS=typescript runs one section; BASELINE_BIN=path/to/older/disco adds that binary's rows.
bench-lsp-scale:
	DISCO_TOOLS=$(TOOLS) DISCO_PY=$(TOOLS)/pyvenv/bin/python bench/lsp_scale.sh

clean:
	$(CARGO) clean
