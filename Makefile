# jwt-guard build, test and demo entry points. Every target installs what it
# needs (wasm target, Python venv with the pinned Envoy), so a fresh clone works.
SHELL := /bin/bash
VENV  := .venv
PY    := $(VENV)/bin/python
WASM  := target/wasm32-wasip1/release/jwt_guard.wasm
# The same module without SIMD128, for a host that lacks it (docs/deploy.md):
# built in a target directory of its own, as its flags differ.
WASM_SCALAR := target/wasm32-wasip1/release/jwt_guard_scalar.wasm
SCALAR_TARGET := target/scalar

.PHONY: build test unit e2e demo lint wasm-target binaryen venv clean cli

wasm-target:
	@rustup target list --installed | grep -qx wasm32-wasip1 || rustup target add wasm32-wasip1

# wasm-opt (binaryen, from Debian if missing) takes about 11% off the module
# at no cost in speed. -ocimfs 0: no inlining of single-caller functions, whose
# larger bodies cost Envoy's V8 (TurboFan on every function at load) memory.
# The features are the ones rustc's wasm32-wasip1 output uses.
WASM_OPT_FLAGS := -Oz -ocimfs 0 --enable-bulk-memory --enable-sign-ext \
	--enable-mutable-globals --enable-nontrapping-float-to-int

binaryen:
	@command -v wasm-opt >/dev/null || { s=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		$$s apt-get update -qq && $$s apt-get install -y -qq binaryen; }

# LLVM inlines less than at opt-level 3's default (250): configure-time code
# (config, key and discovery parsing) stops being copied into its callers,
# 65 KiB of the module, while a cached token costs the same in V8 and an RSA
# or ES256 verification about 1% more (benches/README.md, "Size"). It is set
# in .cargo/config.toml beside SIMD128, so every cargo build of the module
# has it; the scalar build's RUSTFLAGS replace those (cargo would append
# CARGO_TARGET_*_RUSTFLAGS to them), so they repeat it.
SCALAR_RUSTFLAGS := -C llvm-args=-inline-threshold=100

# The most a module may weigh, in bytes (900 KiB): `build` fails above it.
WASM_BUDGET := 921600

# cargo re-links $(WASM) to its own output on every build, so wasm-opt always
# starts from cargo's module; mv (not cp) leaves cargo's copy untouched.
build: wasm-target binaryen
	cargo build --release --target wasm32-wasip1
	wasm-opt $(WASM_OPT_FLAGS) --enable-simd $(WASM) -o $(WASM).opt.$$$$ && mv -f $(WASM).opt.$$$$ $(WASM)
	RUSTFLAGS="$(SCALAR_RUSTFLAGS)" cargo build --release \
		--target wasm32-wasip1 --target-dir $(SCALAR_TARGET)
	wasm-opt $(WASM_OPT_FLAGS) $(SCALAR_TARGET)/wasm32-wasip1/release/jwt_guard.wasm -o $(WASM_SCALAR)
	@ls -l $(WASM) $(WASM_SCALAR)
	@for f in $(WASM) $(WASM_SCALAR); do size=$$(wc -c < $$f); if [ $$size -gt $(WASM_BUDGET) ]; then \
		echo "build: $$f is $$size bytes ($$((size / 1024)) KiB), over its budget of" \
			"$(WASM_BUDGET) bytes ($$(($(WASM_BUDGET) / 1024)) KiB, WASM_BUDGET in the Makefile)" >&2; \
		exit 1; fi; done

# The jwt-guard command (docs/cli.md): check, explain, schema, token, built
# for this machine from the module's own core (`cargo install --path .`
# installs it). The e2e tests build it themselves.
cli:
	cargo build --release --bin jwt-guard
	@ls -l target/release/jwt-guard

$(VENV)/.stamp: tests/e2e/requirements.txt
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -r tests/e2e/requirements.txt
	touch $@

venv: $(VENV)/.stamp

# The library's unit tests, and the allocation test in its own binary (its
# counting allocator must not wrap the others).
unit:
	cargo test --lib --test allocations

# The e2e suites need the Kong host too: a missing one fails them, never
# skips (JWT_GUARD_REQUIRE_KONG).
e2e: build venv kong-host
	JWT_GUARD_REQUIRE_KONG=1 $(PY) -m pytest -q tests/e2e

# Kong's wasm host (nginx + ngx_wasm_module + the wasmtime C API) for the
# Kong e2e suites, built once into ~/.cache/jwt-guard/kong-host (about 7
# minutes on 2 cores; tests/kong/host/build.sh). Sources: the tarballs in
# KONG_HOST_SRC, by default ../shared/kong-host beside the repository when
# it exists, else downloaded from GitHub; checked against pinned sha256s.
KONG_HOST_SRC ?= $(abspath $(wildcard ../shared/kong-host))
.PHONY: kong-host
kong-host:
	@KONG_HOST_SRC="$(KONG_HOST_SRC)" tests/kong/host/build.sh >/dev/null

test: unit e2e fuzz-smoke

# cargo-deny (from crates.io if missing) checks licenses, bans and sources
# against deny.toml; advisories need GitHub, see deny.toml.
# The layering check (src/layering.rs) fails if anything outside src/config*
# and src/filter* imports crate::config, or uses proxy_wasm outside src/filter*.
lint: wasm-target
	cargo fmt --check
	cargo test --lib --quiet layering
	cargo clippy --all-targets -- -D warnings
	cargo clippy --release --target wasm32-wasip1 -- -D warnings
	RUSTFLAGS="$(SCALAR_RUSTFLAGS)" cargo clippy --release \
		--target wasm32-wasip1 --target-dir $(SCALAR_TARGET) -- -D warnings
	@command -v cargo-deny >/dev/null || cargo install cargo-deny --locked
	cargo deny check bans licenses sources

demo: build venv
	$(PY) envoy/demo.py

clean:
	cargo clean
	rm -rf $(VENV)

# Throughput/CPU/latency/RSS of jwt-guard vs native jwt_authn (benches/README.md).
# Needs wrk (installed from Debian if missing) and the do-nothing wasm filter
# (benches/noop, its own workspace; built into target/noop, git-ignored).
# BASELINE=<git rev> also builds the module at that revision (in a temporary
# worktree, into target/baseline, with that revision's own build flags) and
# runs it beside this one, same run.
BASELINE ?=
BASELINE_WASM := $(abspath .cache/bench/baseline.wasm)
.PHONY: bench
bench: build venv
	@command -v wrk >/dev/null || { s=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		$$s apt-get update -qq && $$s apt-get install -y -qq wrk; }
	cargo build --release --target wasm32-wasip1 \
		--manifest-path benches/noop/Cargo.toml --target-dir target/noop
	@if [ -n "$(BASELINE)" ]; then \
		src=$$(mktemp -d) && git worktree add -q --detach $$src/src $(BASELINE) && \
		(cd $$src/src && cargo build -q --release --target wasm32-wasip1 \
			--target-dir $(abspath target/baseline)) && \
		mkdir -p $(dir $(BASELINE_WASM)) && \
		wasm-opt $(WASM_OPT_FLAGS) --enable-simd target/baseline/wasm32-wasip1/release/jwt_guard.wasm \
			-o $(BASELINE_WASM); rc=$$?; \
		git worktree remove --force $$src/src; rm -rf $$src; exit $$rc; fi
	$(if $(BASELINE),BENCH_BASELINE_WASM=$(BASELINE_WASM)) $(PY) benches/bench.py

# Coverage-guided fuzzing (fuzz/README.md): every target for FUZZ_SECONDS
# (default 300) from the checked-in seeds plus a working corpus under .cache.
# cargo-fuzz is installed from crates.io if missing; RUSTC_BOOTSTRAP lets the
# stable toolchain take the sanitizer flags it passes.
FUZZ_TARGETS := token request claims jwks config introspection dpop
FUZZ_SECONDS ?= 300
FUZZ := RUSTC_BOOTSTRAP=1 cargo fuzz
.PHONY: fuzz fuzz-smoke fuzz-tool
fuzz-tool:
	@command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked

fuzz: fuzz-tool
	$(FUZZ) build -O --fuzz-dir fuzz
	@for t in $(FUZZ_TARGETS); do \
		mkdir -p .cache/fuzz/$$t; \
		echo "fuzz: $$t for $(FUZZ_SECONDS) s"; \
		$(FUZZ) run -O --fuzz-dir fuzz $$t .cache/fuzz/$$t fuzz/seeds/$$t -- \
			-max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 2>&1 \
			| grep -E "^(stat::number_of_executed_units|stat::new_units_added|Done|==|SUMMARY|thread)" \
			|| exit 1; \
		test $${PIPESTATUS[0]} -eq 0 || exit 1; \
	done

# The short run `make test` includes.
fuzz-smoke:
	$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=20

# Minutes of mixed good and bad tokens under load (benches/soak.py); not in
# `make test`. SOAK_SECONDS (300) and SOAK_CONNECTIONS (16) tune it.
.PHONY: soak
soak: build venv
	@command -v wrk >/dev/null || { s=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		$$s apt-get update -qq && $$s apt-get install -y -qq wrk; }
	$(PY) benches/soak.py

# Deploy artifacts (docs/deploy-istio.md, docs/deploy-kong.md): the module as an OCI image for Istio's
# WasmPlugin (layout and archive under target/oci/, no Docker needed), and
# Kong's filter meta file from the config schema (deploy/kong/).
.PHONY: oci kong-meta
oci: build
	python3 deploy/istio/build_oci.py $(WASM) target/oci

kong-meta:
	python3 deploy/kong/make_meta.py
