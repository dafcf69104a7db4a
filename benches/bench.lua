-- wrk script for benches/bench.py.
--
--   wrk ... -s benches/bench.lua -- <tokens file> [<first line> <lines>]
--
-- The tokens file holds one Authorization value per line ("Bearer ..."); the
-- requests cycle through them, one per request (a one-line file sends the
-- same header every time, an empty file sends no Authorization at all).
-- After the Authorization value, a line may carry more headers, each as a
-- tab and "Name: value" (the DPoP workload: "DPoP <token>", its Host and a
-- DPoP proof). With <first line> (1-based) and <lines>, only those lines
-- are read: a run whose lines may each be sent once (DPoP proofs) gets ones
-- no earlier run sent, and there must be more of them than it can send.
-- Should it send them all, it starts over (a replayed proof gets 401) and
-- done() says so: `wrapped` counts the requests sent after the last line.
-- Requests are pre-formatted once in init(), so that cycling 2,000 tokens
-- costs wrk no more than sending one.
--
-- Every response's status is counted (response()) and done() prints one
-- machine-readable line, so the driver can refuse a run that got anything
-- but the expected status: a fast wrong answer is not a result.

local requests = {}
local next_index = 1
local once = false  -- lines were given: each is meant to be sent once
local sent = 0
counts = {}   -- global: read from each thread by done() via thread:get()
wrapped = 0   -- global too: requests sent again from the first line on

-- The headers of one line: its Authorization value, then "\tName: value"s.
local function headers_of(line)
  local fields = {}
  for field in (line .. "\t"):gmatch("([^\t]*)\t") do
    fields[#fields + 1] = field
  end
  local headers = { ["Authorization"] = fields[1] }
  for i = 2, #fields do
    local name, value = fields[i]:match("^([^:]+):%s*(.*)$")
    if name then
      headers[name] = value
    end
  end
  return headers
end

function init(args)
  local path = args[1]
  local first = tonumber(args[2]) or 1
  once = args[3] ~= nil
  local last = args[3] and first + tonumber(args[3]) - 1 or math.huge
  local file = path and io.open(path, "r")
  if file then
    local n = 0
    for line in file:lines() do
      n = n + 1
      if n > last then
        break
      end
      if n >= first and line ~= "" then
        requests[#requests + 1] = wrk.format(nil, "/", headers_of(line))
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
  sent = sent + 1
  if once and sent > #requests then
    wrapped = wrapped + 1
  end
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
  local again = 0
  for _, t in ipairs(threads) do
    again = again + (t:get("wrapped") or 0)
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
    "errors=%d,%d,%d,%d,%d statuses=%s wrapped=%d\n",
    summary.requests, summary.duration,
    latency:percentile(50.0), latency:percentile(99.0),
    e.connect, e.read, e.write, e.timeout, e.status,
    table.concat(parts, ","), again))
end
