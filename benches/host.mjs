// A minimal proxy-wasm (ABI 0.2.1) host in node, for profiling the filter
// module inside V8 without Envoy: it loads a .wasm, configures it, and drives
// requests through on_request_headers, counting the answers. Only the host
// functions the filter uses on its request path are real; the rest fail.
//
//   node benches/host.mjs MODULE.wasm CONFIG.json TOKENS.txt [REQUESTS]
//
// TOKENS.txt: one Authorization value per line (empty file: no header).
// Prints µs per request and the status counts; run under `node --cpu-prof`
// with an unstripped module for a per-function profile (benches/profile.py).

import { readFileSync } from 'node:fs';
import { WASI } from 'node:wasi';
import { argv, hrtime } from 'node:process';

const OK = 0, NOT_FOUND = 1, BAD_ARGUMENT = 2, UNIMPLEMENTED = 12;
const PLUGIN_CONFIGURATION = 7, REQUEST_HEADERS = 0;

export class Host {
  constructor(wasmBytes, config) {
    this.config = Buffer.from(config);
    this.headers = new Map();      // name -> [values]
    this.reply = null;             // {status, headers, body} of a local reply
    this.logs = [];
    this.shared = new Map();
    this.mod = new WebAssembly.Module(wasmBytes);
    const wasi = new WASI({ version: 'preview1', args: [], env: {} });
    const env = {};
    for (const imp of WebAssembly.Module.imports(this.mod)) {
      if (imp.module === 'env') env[imp.name] = () => UNIMPLEMENTED;
    }
    Object.assign(env, this.calls());
    this.inst = new WebAssembly.Instance(this.mod, { ...wasi.getImportObject(), env });
    wasi.initialize(this.inst);
    this.x = this.inst.exports;
    this.nextContext = 2;
  }

  mem() { return new DataView(this.x.memory.buffer); }
  bytes(ptr, len) { return Buffer.from(this.x.memory.buffer, ptr, len); }
  str(ptr, len) { return this.bytes(ptr, len).toString('utf8'); }

  // Copies bytes into module memory it allocates, and stores (ptr, len).
  give(buf, retPtr, retLen) {
    const ptr = buf.length ? this.x.proxy_on_memory_allocate(buf.length) : 0;
    if (buf.length) new Uint8Array(this.x.memory.buffer, ptr, buf.length).set(buf);
    const m = this.mem();
    m.setUint32(retPtr, ptr, true);
    m.setUint32(retLen, buf.length, true);
    return OK;
  }

  static encodePairs(pairs) {
    const enc = pairs.map(([k, v]) => [Buffer.from(k), Buffer.from(v)]);
    let size = 4 + enc.length * 8;
    for (const [k, v] of enc) size += k.length + v.length + 2;
    const out = Buffer.alloc(size);
    out.writeUInt32LE(enc.length, 0);
    let off = 4;
    for (const [k, v] of enc) {
      out.writeUInt32LE(k.length, off); out.writeUInt32LE(v.length, off + 4); off += 8;
    }
    for (const [k, v] of enc) {
      k.copy(out, off); off += k.length + 1;
      v.copy(out, off); off += v.length + 1;
    }
    return out;
  }

  static decodePairs(buf) {
    const n = buf.readUInt32LE(0);
    const lens = [];
    let off = 4;
    for (let i = 0; i < n; i++, off += 8) lens.push([buf.readUInt32LE(off), buf.readUInt32LE(off + 4)]);
    const pairs = [];
    for (const [kl, vl] of lens) {
      const k = buf.toString('utf8', off, off + kl); off += kl + 1;
      const v = buf.toString('utf8', off, off + vl); off += vl + 1;
      pairs.push([k, v]);
    }
    return pairs;
  }

  calls() {
    const h = this;
    return {
      proxy_log(level, ptr, len) { h.logs.push([level, h.str(ptr, len)]); return OK; },
      proxy_get_buffer_bytes(type, start, max, retPtr, retLen) {
        if (type !== PLUGIN_CONFIGURATION) return NOT_FOUND;
        return h.give(h.config.subarray(start, start + max), retPtr, retLen);
      },
      proxy_get_current_time_nanoseconds(ret) {
        h.mem().setBigUint64(ret, BigInt(Date.now()) * 1000000n, true);
        return OK;
      },
      proxy_set_tick_period_milliseconds() { return OK; },
      proxy_get_header_map_pairs(type, retPtr, retLen) {
        if (type !== REQUEST_HEADERS) return NOT_FOUND;
        const pairs = [];
        for (const [k, vs] of h.headers) for (const v of vs) pairs.push([k, v]);
        return h.give(Host.encodePairs(pairs), retPtr, retLen);
      },
      proxy_get_header_map_value(type, kp, kl, retPtr, retLen) {
        const vs = type === REQUEST_HEADERS ? h.headers.get(h.str(kp, kl)) : undefined;
        if (!vs) return NOT_FOUND;
        return h.give(Buffer.from(vs.join(',')), retPtr, retLen);
      },
      proxy_replace_header_map_value(type, kp, kl, vp, vl) {
        if (type !== REQUEST_HEADERS) return BAD_ARGUMENT;
        h.headers.set(h.str(kp, kl), [h.str(vp, vl)]);
        return OK;
      },
      proxy_add_header_map_value(type, kp, kl, vp, vl) {
        if (type !== REQUEST_HEADERS) return BAD_ARGUMENT;
        const k = h.str(kp, kl);
        h.headers.set(k, [...(h.headers.get(k) ?? []), h.str(vp, vl)]);
        return OK;
      },
      proxy_remove_header_map_value(type, kp, kl) {
        if (type !== REQUEST_HEADERS) return BAD_ARGUMENT;
        h.headers.delete(h.str(kp, kl));
        return OK;
      },
      proxy_send_local_response(status, _dp, _dl, bp, bl, hp, hl) {
        h.reply = { status, body: h.str(bp, bl), headers: Host.decodePairs(h.bytes(hp, hl)) };
        return OK;
      },
      proxy_get_shared_data() { return NOT_FOUND; },
      proxy_set_shared_data() { return OK; },
      proxy_get_property() { return NOT_FOUND; },
      proxy_set_effective_context() { return OK; },
      proxy_continue_stream() { return OK; },
      proxy_done() { return OK; },
    };
  }

  configure() {
    this.x.proxy_on_context_create(1, 0);
    this.x.proxy_on_vm_start(1, 0);
    return this.x.proxy_on_configure(1, this.config.length) !== 0;
  }

  // One request through the filter: 200 (continued) or the local reply.
  request(headers) {
    const id = this.nextContext++;
    this.headers = new Map(headers.map(([k, v]) => [k, [v]]));
    this.reply = null;
    this.x.proxy_on_context_create(id, 1);
    const action = this.x.proxy_on_request_headers(id, headers.length, 1);
    const status = this.reply ? this.reply.status : (action === 0 ? 200 : 0);
    this.x.proxy_on_done(id);
    this.x.proxy_on_delete(id);
    return status;
  }
}

if (import.meta.url === `file://${argv[1]}`) {
  const [wasmPath, configPath, tokensPath, count = '200000'] = argv.slice(2);
  const host = new Host(readFileSync(wasmPath), readFileSync(configPath));
  if (!host.configure()) {
    console.error(host.logs.map(([, m]) => m).join('\n'));
    process.exit(2);
  }
  const tokens = readFileSync(tokensPath, 'utf8').split('\n').filter((l) => l);
  const base = [[':method', 'GET'], [':path', '/api/orders?x=1'], [':authority', 'localhost:10000'],
    [':scheme', 'http'], ['user-agent', 'wrk'], ['accept', '*/*'], ['x-request-id', 'f00d']];
  const headersFor = (i) => tokens.length
    ? [...base, ['authorization', tokens[i % tokens.length]]] : base;
  const n = Number(count);
  const warm = Math.min(n, 20000);
  for (let i = 0; i < warm; i++) host.request(headersFor(i));
  const counts = {};
  const t0 = hrtime.bigint();
  for (let i = 0; i < n; i++) {
    const s = host.request(headersFor(i));
    counts[s] = (counts[s] ?? 0) + 1;
  }
  const us = Number(hrtime.bigint() - t0) / 1000 / n;
  console.log(`HOST requests=${n} us_per_request=${us.toFixed(2)} statuses=${JSON.stringify(counts)}`);
}
