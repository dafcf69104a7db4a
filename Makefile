# jwt-guard build, test and demo entry points. Every target installs what it
# needs (wasm target, Python venv with the pinned Envoy), so a fresh clone works.
SHELL := /bin/bash
VENV  := .venv
PY    := $(VENV)/bin/python
WASM  := target/wasm32-wasip1/release/jwt_guard.wasm

.PHONY: build test unit e2e demo lint wasm-target venv clean

wasm-target:
	@rustup target list --installed | grep -qx wasm32-wasip1 || rustup target add wasm32-wasip1

build: wasm-target
	cargo build --release --target wasm32-wasip1
	@ls -l $(WASM)

$(VENV)/.stamp: tests/e2e/requirements.txt
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -r tests/e2e/requirements.txt
	touch $@

venv: $(VENV)/.stamp

unit:
	cargo test --lib

e2e: build venv
	$(PY) -m pytest -q tests/e2e

test: unit e2e

lint: wasm-target
	cargo fmt --check
	cargo clippy --all-targets -- -D warnings
	cargo clippy --release --target wasm32-wasip1 -- -D warnings

demo: build venv
	$(PY) envoy/demo.py

clean:
	cargo clean
	rm -rf $(VENV)

# Throughput/CPU/latency/RSS of jwt-guard vs native jwt_authn (benches/README.md).
# Needs wrk (installed from Debian if missing) and the do-nothing wasm filter
# (benches/noop, its own workspace; built into target/noop, git-ignored).
.PHONY: bench
bench: build venv
	@command -v wrk >/dev/null || { s=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		$$s apt-get update -qq && $$s apt-get install -y -qq wrk; }
	cargo build --release --target wasm32-wasip1 \
		--manifest-path benches/noop/Cargo.toml --target-dir target/noop
	$(PY) benches/bench.py
