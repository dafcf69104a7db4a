"""The module needs nothing a proxy-wasm host may lack.

Both hosts we target implement proxy-wasm ABI 0.2.1: Envoy (proxy-wasm-cpp-
host) and Kong's ngx_wasm_module. ngx_wasm_module leaves some of it as stubs
(gRPC, proxy_done, proxy_get_status, proxy_close_stream) and lacks
proxy_get_log_level. This test lists the module's imports and fails on any
function outside the common set, and checks that the host calls jwt-guard
actually makes (the glue in src/filter*) are all real on both hosts: the
stubs are only imported because the SDK wraps them.

It also lists the WebAssembly proposals each module (`make build` makes a
SIMD128 one and a scalar one) needs beyond the first version of the
standard: those both hosts enable by default, and no SIMD in the scalar one.
"""

from __future__ import annotations

import re

import pytest

import wasmtime

from envoy_runner import REPO, WASM, WASM_SCALAR
from wasm_imports import imports

# proxy-wasm ABI 0.2.1 functions Envoy and ngx_wasm_module both provide
# (ngx_wasm_module: as a do-nothing stub for those in KONG_STUBS).
ABI_0_2_1_COMMON = {
    "proxy_log", "proxy_set_tick_period_milliseconds", "proxy_get_current_time_nanoseconds",
    "proxy_get_property", "proxy_set_property",
    "proxy_get_buffer_bytes", "proxy_set_buffer_bytes",
    "proxy_get_header_map_pairs", "proxy_set_header_map_pairs", "proxy_get_header_map_value",
    "proxy_replace_header_map_value", "proxy_add_header_map_value",
    "proxy_remove_header_map_value",
    "proxy_continue_stream", "proxy_close_stream", "proxy_send_local_response",
    "proxy_http_call",
    "proxy_grpc_call", "proxy_grpc_stream", "proxy_grpc_send", "proxy_grpc_cancel",
    "proxy_grpc_close",
    "proxy_get_shared_data", "proxy_set_shared_data",
    "proxy_register_shared_queue", "proxy_resolve_shared_queue",
    "proxy_dequeue_shared_queue", "proxy_enqueue_shared_queue",
    "proxy_set_effective_context", "proxy_done", "proxy_get_status",
    "proxy_call_foreign_function",
    "proxy_define_metric", "proxy_increment_metric", "proxy_record_metric", "proxy_get_metric",
}
KONG_STUBS = {"proxy_grpc_call", "proxy_grpc_stream", "proxy_grpc_send", "proxy_grpc_cancel",
              "proxy_grpc_close", "proxy_done", "proxy_get_status", "proxy_close_stream"}
# WASI preview 1 functions both hosts provide to a proxy-wasm module.
WASI_COMMON = {"fd_write", "proc_exit", "random_get", "clock_time_get", "environ_get",
               "environ_sizes_get", "args_get", "args_sizes_get"}

# The Rust SDK's hostcalls:: wrappers the glue uses, and the ABI functions
# behind them (proxy-wasm 0.2.5).
SDK_TO_ABI = {
    "log": {"proxy_log"},
    "get_buffer": {"proxy_get_buffer_bytes"},
    "get_map_bytes": {"proxy_get_header_map_pairs"},
    "get_map_value": {"proxy_get_header_map_value"},
    "set_map_value": {"proxy_replace_header_map_value", "proxy_remove_header_map_value"},
    "add_map_value": {"proxy_add_header_map_value"},
    "send_http_response": {"proxy_send_local_response"},
    "get_current_time": {"proxy_get_current_time_nanoseconds"},
    "set_tick_period": {"proxy_set_tick_period_milliseconds"},
    "dispatch_http_call": {"proxy_http_call"},
    "get_shared_data": {"proxy_get_shared_data"},
    "set_shared_data": {"proxy_set_shared_data"},
    "set_effective_context": {"proxy_set_effective_context"},
    "resume_http_request": {"proxy_continue_stream"},
}


@pytest.fixture(scope="module")
def module_imports():
    if not WASM.exists():
        pytest.fail(f"{WASM} not found: run `make build`")
    return imports(WASM)


def test_imports_only_what_both_hosts_provide(module_imports):
    env = {n for m, n, k in module_imports if m == "env"}
    wasi = {n for m, n, k in module_imports if m == "wasi_snapshot_preview1"}
    others = {(m, n) for m, n, k in module_imports if m not in ("env", "wasi_snapshot_preview1")}
    assert all(k == "func" for _, _, k in module_imports), module_imports
    assert env <= ABI_0_2_1_COMMON, f"host functions outside ABI 0.2.1: {env - ABI_0_2_1_COMMON}"
    assert wasi <= WASI_COMMON, f"WASI functions a host may lack: {wasi - WASI_COMMON}"
    assert not others, others
    assert "proxy_get_log_level" not in env  # not in ngx_wasm_module
    print(f"imports: {len(env)} proxy-wasm, {len(wasi)} WASI; "
          f"imported but stubbed on Kong: {sorted(env & KONG_STUBS)}")


def test_every_host_call_jwt_guard_makes_is_real_on_both_hosts(module_imports):
    used = set()
    for path in (REPO / "src").rglob("*.rs"):
        used |= set(re.findall(r"hostcalls::([a-z_]+)", path.read_text()))
    unknown = used - SDK_TO_ABI.keys()
    assert not unknown, f"update SDK_TO_ABI for: {unknown}"
    needed = set().union(*(SDK_TO_ABI[u] for u in used))
    env = {n for m, n, _ in module_imports if m == "env"}
    assert needed <= env, needed - env
    assert not needed & KONG_STUBS, f"the core job would rely on Kong stubs: {needed & KONG_STUBS}"
    assert len(used) >= 10  # the glue really was found and read


# Proposals a module may need beyond WebAssembly's first version, each as
# the wasmtime settings that switch it off (relaxed SIMD builds on SIMD).
# A module needs a proposal when it does not validate without it. (Switching
# reference types off aborts wasmtime's C API, so that one is not probed.)
PROPOSALS = {
    "simd": ("wasm_relaxed_simd", "wasm_simd"), "relaxed_simd": ("wasm_relaxed_simd",),
    "bulk_memory": ("wasm_bulk_memory",), "multi_value": ("wasm_multi_value",),
    "threads": ("wasm_threads",), "tail_call": ("wasm_tail_call",),
    "exceptions": ("wasm_exceptions",), "memory64": ("wasm_memory64",),
    "multi_memory": ("wasm_multi_memory",), "wide_arithmetic": ("wasm_wide_arithmetic",),
    "custom_page_sizes": ("wasm_custom_page_sizes",),
}
# On by default in Envoy 1.40's V8 and in the wasmtime 26 of Kong 3.4-3.9
# (ngx_wasm_module leaves wasmtime's defaults unless `wasmtime { flag ... }`
# says otherwise): all three are in WebAssembly 2.0.
BOTH_HOSTS = {"simd", "bulk_memory", "multi_value"}


def proposals(path) -> set[str]:
    if not path.exists():
        pytest.fail(f"{path} not found: run `make build`")
    data = path.read_bytes()
    wasmtime.Module.validate(wasmtime.Engine(), data)  # valid with everything on
    needed = set()
    for name, settings in PROPOSALS.items():
        config = wasmtime.Config()
        for s in settings:
            setattr(config, s, False)
        try:
            wasmtime.Module.validate(wasmtime.Engine(config), data)
        except wasmtime.WasmtimeError:
            needed.add(name)
    return needed


def test_each_build_needs_only_proposals_both_hosts_enable():
    simd, scalar = proposals(WASM), proposals(WASM_SCALAR)
    print(f"proposals: {WASM.name} needs {sorted(simd)}; {WASM_SCALAR.name} needs {sorted(scalar)}")
    assert "simd" in simd, "the default module is the SIMD128 build"
    assert simd <= BOTH_HOSTS, simd - BOTH_HOSTS
    assert scalar <= BOTH_HOSTS - {"simd"}, scalar
