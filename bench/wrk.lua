-- wrk script for the ingest benchmark: each request is a validly signed pull_request delivery
-- from a pool (one body per PR, signed once) with a delivery id unique to this request.
-- Arguments: POOL_FILE RUN_PREFIX.  Prints one "BENCH-JSON {...}" line when done.

local threads = {}
local count = 0

function setup(thread)
  count = count + 1
  thread:set("tid", count)
  table.insert(threads, thread)
end

function init(args)
  pool = {}
  for line in io.lines(args[1]) do
    local tab = line:find("\t", 1, true)
    pool[#pool + 1] = { line:sub(1, tab - 1), line:sub(tab + 1) }
  end
  prefix = args[2] .. "-" .. tostring(tid) .. "-"
  counter = 0
  counts = {}
end

function request()
  counter = counter + 1
  local item = pool[(counter + tid * 7919) % #pool + 1]
  local headers = {
    ["Content-Type"] = "application/json",
    ["X-GitHub-Event"] = "pull_request",
    ["X-GitHub-Delivery"] = prefix .. counter,
    ["X-Hub-Signature-256"] = item[1],
    ["User-Agent"] = "GitHub-Hookshot/bench",
  }
  return wrk.format("POST", "/webhooks/github", headers, item[2])
end

function response(status, headers, body)
  counts[status] = (counts[status] or 0) + 1
end

function done(summary, latency, requests)
  local merged = {}
  for _, t in ipairs(threads) do
    for k, v in pairs(t:get("counts")) do
      merged[k] = (merged[k] or 0) + v
    end
  end
  local parts = {}
  for k, v in pairs(merged) do
    parts[#parts + 1] = string.format('"%d": %d', k, v)
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH-JSON {"requests": %d, "duration_s": %f, "p50_s": %f, "p99_s": %f, ' ..
    '"errors": %d, "statuses": {%s}}\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1e6,
    latency:percentile(99) / 1e6, e.connect + e.read + e.write + e.timeout,
    table.concat(parts, ", ")))
end
