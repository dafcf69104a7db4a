-- wrk script for benches/soak.py: a tagged request stream.
--
--   wrk ... -s benches/soak.lua -- <requests file>
--
-- Each line of the requests file is "<tag>\t<Authorization value>" (an empty
-- value: no Authorization header). Requests cycle through the lines; every
-- request carries its tag in `x-tag`, and Envoy echoes it back in the
-- response (route and local-reply config), so each answer is counted per
-- (tag, status) even with many connections in flight.

local requests = {}
local next_index = 1
counts = {}   -- "tag status" -> n; read from each thread by done()

function init(args)
  local file = assert(io.open(args[1], "r"))
  for line in file:lines() do
    local tag, value = line:match("^([^\t]+)\t?(.*)$")
    if tag then
      local headers = { ["x-tag"] = tag }
      if value ~= "" then headers["Authorization"] = value end
      requests[#requests + 1] = wrk.format(nil, "/", headers)
    end
  end
  file:close()
  next_index = ((id or 0) * 7919) % #requests + 1
end

function request()
  local r = requests[next_index]
  next_index = next_index % #requests + 1
  return r
end

function response(status, headers, body)
  local key = (headers["x-tag"] or "?") .. " " .. status
  counts[key] = (counts[key] or 0) + 1
end

local threads = {}

function setup(thread)
  thread:set("id", #threads)
  threads[#threads + 1] = thread
end

function done(summary, latency, _)
  local total = {}
  for _, t in ipairs(threads) do
    for key, n in pairs(t:get("counts") or {}) do
      total[key] = (total[key] or 0) + n
    end
  end
  for key, n in pairs(total) do
    io.write(string.format("SOAK %s %d\n", key, n))
  end
  local e = summary.errors
  io.write(string.format("SOAK_SUMMARY requests=%d duration_us=%d p99_us=%d errors=%d\n",
    summary.requests, summary.duration, latency:percentile(99.0),
    e.connect + e.read + e.write + e.timeout))
end
