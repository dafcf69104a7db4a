"""A second proxy-wasm host, independent of Envoy and V8: wasmtime (from
PyPI) runs the module, and this file implements the host side of proxy-wasm
ABI 0.2.1 that a request's verification needs. Used to show the module's
decisions do not depend on Envoy's host (test_second_host.py).

Only local keys: no HTTP callouts or timers are simulated.
"""

from __future__ import annotations

import struct
import time
from dataclasses import dataclass, field

import wasmtime

OK, NOT_FOUND, BAD_ARGUMENT = 0, 1, 2
UNIMPLEMENTED = 12
REQUEST_HEADERS = 0
PLUGIN_CONFIGURATION = 7
ACTION_CONTINUE = 0


# Request headers Envoy 1.40 keeps inline (its start-up log lists them as the
# `request header map`): its codecs join repeated ones into one value with
# `,` before any filter sees them, so two `Authorization` headers reach a
# filter as one. Every other header keeps one entry per value.
ENVOY_JOINED = frozenset("""
    accept accept-encoding access-control-request-headers access-control-request-method
    access-control-request-private-network authentication authorization cache-control
    cdn-loop connection content-encoding content-length content-type expect
    grpc-accept-encoding grpc-timeout if-match if-modified-since if-none-match if-range
    if-unmodified-since keep-alive origin pragma proxy-connection proxy-status referer te
    transfer-encoding upgrade user-agent via x-client-trace-id x-envoy-attempt-count
    x-envoy-decorator-operation x-envoy-downstream-service-cluster
    x-envoy-downstream-service-node x-envoy-expected-rq-timeout-ms x-envoy-external-address
    x-envoy-force-trace x-envoy-hedge-on-per-try-timeout x-envoy-internal x-envoy-ip-tags
    x-envoy-is-timeout-retry x-envoy-max-retries x-envoy-original-host x-envoy-original-path
    x-envoy-original-url x-envoy-retriable-header-names x-envoy-retriable-status-codes
    x-envoy-retry-grpc-on x-envoy-retry-on x-envoy-upstream-alt-stat-name
    x-envoy-upstream-rq-per-try-timeout-ms x-envoy-upstream-rq-timeout-alt-response
    x-envoy-upstream-rq-timeout-ms x-envoy-upstream-stream-duration-ms
    x-forwarded-client-cert x-forwarded-for x-forwarded-host x-forwarded-port
    x-forwarded-proto x-request-id
""".split())


def as_envoy_codec_joins(headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The header list as Envoy's header map holds it: repeated headers of
    ENVOY_JOINED become one, at the first one's place, values joined by `,`."""
    out: list[tuple[str, str]] = []
    first: dict[str, int] = {}
    for name, value in headers:
        key = name.lower()
        if key in ENVOY_JOINED and key in first:
            at = first[key]
            out[at] = (out[at][0], f"{out[at][1]},{value}")
        else:
            first.setdefault(key, len(out))
            out.append((name, value))
    return out


@dataclass
class Reply:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


@dataclass
class Outcome:
    """A request's fate: passed on with these headers, or answered locally."""
    reply: Reply | None
    headers: list[tuple[str, str]] = field(default_factory=list)
    logs: list[str] = field(default_factory=list)


def encode_pairs(pairs: list[tuple[str, str]]) -> bytes:
    enc = [(k.encode(), v.encode()) for k, v in pairs]
    out = struct.pack("<I", len(enc))
    out += b"".join(struct.pack("<II", len(k), len(v)) for k, v in enc)
    out += b"".join(k + b"\0" + v + b"\0" for k, v in enc)
    return out


def decode_pairs(buf: bytes) -> list[tuple[str, str]]:
    (n,) = struct.unpack_from("<I", buf, 0)
    lens = [struct.unpack_from("<II", buf, 4 + 8 * i) for i in range(n)]
    pos, out = 4 + 8 * n, []
    for kl, vl in lens:
        k = buf[pos:pos + kl].decode()
        pos += kl + 1
        v = buf[pos:pos + vl].decode()
        pos += vl + 1
        out.append((k, v))
    return out


def engine_config(simd: bool) -> wasmtime.Config:
    """wasmtime's defaults, optionally as a host without SIMD128 (relaxed
    SIMD builds on it, so it goes too)."""
    config = wasmtime.Config()
    if not simd:
        config.wasm_relaxed_simd = False
        config.wasm_simd = False
    return config


class Host:
    def __init__(self, wasm_path: str, config: str, simd: bool = True) -> None:
        self.config = config.encode()
        self.headers: list[tuple[str, str]] = []
        self.reply: Reply | None = None
        self.logs: list[str] = []
        engine = wasmtime.Engine(engine_config(simd))
        self.store = wasmtime.Store(engine)
        wasi = wasmtime.WasiConfig()
        self.store.set_wasi(wasi)
        module = wasmtime.Module.from_file(engine, wasm_path)
        linker = wasmtime.Linker(engine)
        linker.define_wasi()
        self._define(linker, module)
        self.instance = linker.instantiate(self.store, module)
        self.x = self.instance.exports(self.store)
        self.memory = self.x["memory"]
        self.x["_initialize"](self.store)
        self.next_id = 2

    # ------------------------------------------------------------ memory

    def _read(self, ptr: int, size: int) -> bytes:
        return bytes(self.memory.read(self.store, ptr, ptr + size))

    def _str(self, ptr: int, size: int) -> str:
        return self._read(ptr, size).decode("utf-8", "replace")

    def _give(self, data: bytes, ret_ptr: int, ret_size: int) -> int:
        ptr = self.x["proxy_on_memory_allocate"](self.store, len(data)) if data else 0
        if data:
            self.memory.write(self.store, data, ptr)
        self.memory.write(self.store, struct.pack("<I", ptr), ret_ptr)
        self.memory.write(self.store, struct.pack("<I", len(data)), ret_size)
        return OK

    # ------------------------------------------------------------ host calls

    def _define(self, linker: wasmtime.Linker, module: wasmtime.Module) -> None:
        calls = {
            "proxy_log": self._log,
            "proxy_get_buffer_bytes": self._get_buffer_bytes,
            "proxy_get_current_time_nanoseconds": self._time,
            "proxy_get_header_map_pairs": self._get_pairs,
            "proxy_get_header_map_value": self._get_value,
            "proxy_replace_header_map_value": self._replace,
            "proxy_add_header_map_value": self._add,
            "proxy_remove_header_map_value": self._remove,
            "proxy_send_local_response": self._send_local_response,
            "proxy_set_tick_period_milliseconds": lambda period: OK,
            "proxy_get_shared_data": lambda *a: NOT_FOUND,
            "proxy_set_shared_data": lambda *a: OK,
            # As Envoy: only a context that exists (the module probes this).
            "proxy_set_effective_context":
                lambda ctx: OK if 1 <= ctx & 0xFFFFFFFF < self.next_id else BAD_ARGUMENT,
            "proxy_continue_stream": lambda stream: OK,
        }
        for imp in module.imports:
            if imp.module != "env":
                continue
            ty = imp.type
            fn = calls.get(imp.name)
            if fn is None:
                # Everything else: present (as on a host with stubs) but refused.
                def fn(*_args, _n=len(ty.results)):
                    return UNIMPLEMENTED if _n else None
            linker.define_func("env", imp.name, ty, fn)

    def _log(self, level: int, ptr: int, size: int) -> int:
        self.logs.append(self._str(ptr, size))
        return OK

    def _get_buffer_bytes(self, kind: int, start: int, max_size: int, ret_ptr: int,
                          ret_size: int) -> int:
        if kind != PLUGIN_CONFIGURATION:
            return NOT_FOUND
        return self._give(self.config[start:start + max_size], ret_ptr, ret_size)

    def _time(self, ret: int) -> int:
        self.memory.write(self.store, struct.pack("<Q", time.time_ns()), ret)
        return OK

    def _get_pairs(self, kind: int, ret_ptr: int, ret_size: int) -> int:
        if kind != REQUEST_HEADERS:
            return NOT_FOUND
        return self._give(encode_pairs(self.headers), ret_ptr, ret_size)

    def _get_value(self, kind: int, kp: int, ks: int, ret_ptr: int, ret_size: int) -> int:
        name = self._str(kp, ks)
        values = [v for k, v in self.headers if k == name] if kind == REQUEST_HEADERS else []
        if not values:
            return NOT_FOUND
        # Envoy answers with the first value of a repeated header.
        return self._give(values[0].encode(), ret_ptr, ret_size)

    def _replace(self, kind: int, kp: int, ks: int, vp: int, vs: int) -> int:
        if kind != REQUEST_HEADERS:
            return BAD_ARGUMENT
        name = self._str(kp, ks)
        self.headers = [(k, v) for k, v in self.headers if k != name] + [(name, self._str(vp, vs))]
        return OK

    def _add(self, kind: int, kp: int, ks: int, vp: int, vs: int) -> int:
        if kind != REQUEST_HEADERS:
            return BAD_ARGUMENT
        self.headers.append((self._str(kp, ks), self._str(vp, vs)))
        return OK

    def _remove(self, kind: int, kp: int, ks: int) -> int:
        if kind != REQUEST_HEADERS:
            return BAD_ARGUMENT
        name = self._str(kp, ks)
        self.headers = [(k, v) for k, v in self.headers if k != name]
        return OK

    def _send_local_response(self, status: int, _dp: int, _ds: int, bp: int, bs: int,
                             hp: int, hs: int, _grpc: int) -> int:
        self.reply = Reply(status, decode_pairs(self._read(hp, hs)), self._read(bp, bs))
        return OK

    # ------------------------------------------------------------ lifecycle

    def configure(self) -> bool:
        self.x["proxy_on_context_create"](self.store, 1, 0)
        self.x["proxy_on_vm_start"](self.store, 1, 0)
        return self.x["proxy_on_configure"](self.store, 1, len(self.config)) != 0

    def request(self, headers: list[tuple[str, str]]) -> Outcome:
        ctx, self.next_id = self.next_id, self.next_id + 1
        self.headers, self.reply, first_log = as_envoy_codec_joins(headers), None, len(self.logs)
        self.x["proxy_on_context_create"](self.store, ctx, 1)
        action = self.x["proxy_on_request_headers"](self.store, ctx, len(self.headers), 1)
        self.x["proxy_on_done"](self.store, ctx)
        self.x["proxy_on_delete"](self.store, ctx)
        if self.reply is None and action != ACTION_CONTINUE:
            raise AssertionError(f"request paused without a reply (action {action})")
        return Outcome(self.reply, self.headers, self.logs[first_log:])
