-- wrk script for the API benchmark: cycles through "<path>\t<token>" lines of the file named by
-- BENCH_TARGETS (a token, when present, is sent as "Authorization: JWT <token>"), and prints
-- one machine-readable line at the end.
local targets = {}
local idx = 0

function init(args)
  local f = assert(io.open(os.getenv("BENCH_TARGETS"), "r"))
  for line in f:lines() do
    local path, token = line:match("^([^\t]+)\t?(.*)$")
    if path then targets[#targets + 1] = {path, token} end
  end
  f:close()
  idx = math.random(#targets)
end

function request()
  idx = idx % #targets + 1
  local t = targets[idx]
  if t[2] ~= "" then
    return wrk.format("GET", t[1], {["Authorization"] = "JWT " .. t[2]})
  end
  return wrk.format("GET", t[1])
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_us": %d, "bytes": %d, "errors_connect": %d, "errors_read": %d, ' ..
    '"errors_write": %d, "errors_status": %d, "errors_timeout": %d, "p50_us": %d, "p90_us": %d, "p99_us": %d, ' ..
    '"max_us": %d, "mean_us": %.1f}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean))
end
