-- wrk script for benches/bench.py.
--
--   wrk ... -s benches/bench.lua -- <tokens file>
--
-- The tokens file holds one Authorization value per line ("Bearer ..."); the
-- requests cycle through them, one per request (a one-line file sends the
-- same header every time, an empty file sends no Authorization at all).
-- Requests are pre-formatted once in init(), so that cycling 2,000 tokens
-- costs wrk no more than sending one.
--
-- Every response's status is counted (response()) and done() prints one
-- machine-readable line, so the driver can refuse a run that got anything
-- but the expected status: a fast wrong answer is not a result.

local requests = {}
local next_index = 1
counts = {}   -- global: read from each thread by done() via thread:get()

function init(args)
  local path = args[1]
  local file = path and io.open(path, "r")
  if file then
    for line in file:lines() do
      if line ~= "" then
        requests[#requests + 1] = wrk.format(nil, "/", { ["Authorization"] = line })
      end
    end
    file:close()
  end
  if #requests == 0 then
    requests[1] = wrk.format(nil, "/")
  end
  -- With several threads (-t), each starts at its own offset so they do
  -- not send the same token at the same moment. `id` is set by setup().
  next_index = ((id or 0) * 997) % #requests + 1
end

function request()
  local r = requests[next_index]
  next_index = next_index % #requests + 1
  return r
end

function response(status, headers, body)
  counts[status] = (counts[status] or 0) + 1
end

-- setup() runs in the main Lua state once per thread: keep the handles so
-- done() (also main state) can collect each thread's counters.
local threads = {}

function setup(thread)
  thread:set("id", #threads)   -- runs before that thread's init()
  threads[#threads + 1] = thread
end

function done(summary, latency, _)
  local total = {}
  for _, t in ipairs(threads) do
    for code, n in pairs(t:get("counts") or {}) do
      total[code] = (total[code] or 0) + n
    end
  end
  local parts = {}
  for code, n in pairs(total) do
    parts[#parts + 1] = string.format("%d:%d", code, n)
  end
  local e = summary.errors
  io.write(string.format(
    "BENCH requests=%d duration_us=%d p50_us=%d p99_us=%d " ..
    "errors=%d,%d,%d,%d,%d statuses=%s\n",
    summary.requests, summary.duration,
    latency:percentile(50.0), latency:percentile(99.0),
    e.connect, e.read, e.write, e.timeout, e.status,
    table.concat(parts, ",")))
end
