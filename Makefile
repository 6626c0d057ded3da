# The two commands of the README:
#   make run   builds the release binary and writes tree.jsonl (semantic trees of this project)
#   make test  installs what the tests need and runs every test, fmt and clippy
CARGO ?= cargo
# Tests, clippy and CI build every feature (cloud back ends...), always the same set, so
# nothing is compiled twice.
FEATURES ?= --all-features
TOOLS ?= $(HOME)/.cache/disco/tools

.PHONY: run test setup build lint fmt bench clean

run:
	$(CARGO) build --release
	./target/release/disco tree . -o tree.jsonl
	@echo "wrote tree.jsonl ($$(wc -l < tree.jsonl) files)"

setup:
	DISCO_TOOLS=$(TOOLS) scripts/setup.sh

test: setup
	$(CARGO) fmt --all -- --check
	DISCO_REQUIRE_S3=1 DISCO_MOTO_SERVER=$(TOOLS)/venv/bin/moto_server $(CARGO) test $(FEATURES)
	$(CARGO) clippy $(FEATURES) --all-targets -- -D warnings

lint:
	$(CARGO) clippy $(FEATURES) --all-targets -- -D warnings

fmt:
	$(CARGO) fmt --all

bench:
	bench/tree.sh

clean:
	$(CARGO) clean
