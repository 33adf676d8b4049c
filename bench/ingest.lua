-- wrk load generator for POST /api/v1/events.
-- Every request carries new events (unique context.id per thread and counter), so each one
-- is a real insert, not a duplicate. BATCH=1 sends one bare CDEvent per request; BATCH=N>1
-- sends an application/cloudevents-batch+json array of N events.
-- Any response other than 202 is counted and printed at the end; a run with failures is not
-- a valid measurement.
local threads = {}
local batch = tonumber(os.getenv("BATCH") or "1")
local token = os.getenv("TOKEN") or "bench-secret-1"

function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  counter = 0
  failures = 0
  prefix = string.format("%d-%d-%d", os.time(), tid, math.random(1, 1e9))
end

local function event(n)
  return string.format(
    '{"context":{"specversion":"0.5.1","id":"%s-%d","source":"/bench/ci",' ..
    '"type":"dev.cdevents.service.deployed.0.3.0","timestamp":"2026-11-20T10:00:00.123Z","chainId":"c-%d"},' ..
    '"subject":{"id":"svc-%d","source":"/bench/cd","content":{"environment":{"id":"prod"},' ..
    '"artifactId":"pkg:oci/app%d@sha256%%3A0b31b1c02ff458ad9b7b81cbdf8f028bd54699fa151f221d1e8de6817db93427"}}}',
    prefix, n, n % 1000, n % 40, n % 40)
end

function request()
  if batch == 1 then
    counter = counter + 1
    return wrk.format("POST", "/api/v1/events",
      {["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. token}, event(counter))
  end
  local items = {}
  for i = 1, batch do
    counter = counter + 1
    items[i] = '{"specversion":"1.0","id":"' .. prefix .. '-' .. counter ..
      '","source":"/bench/ci","type":"dev.cdevents.service.deployed.0.3.0","data":' .. event(counter) .. '}'
  end
  return wrk.format("POST", "/api/v1/events",
    {["Content-Type"] = "application/cloudevents-batch+json", ["Authorization"] = "Bearer " .. token},
    "[" .. table.concat(items, ",") .. "]")
end

function response(status, headers, body)
  if status ~= 202 then
    failures = failures + 1
    if failures <= 3 then io.stderr:write("non-202: " .. status .. " " .. body .. "\n") end
  end
end

function done(summary, latency, requests)
  local failed = 0
  for _, t in ipairs(threads) do failed = failed + (t:get("failures") or 0) end
  local secs = summary.duration / 1e6
  local ok = summary.requests - failed
  io.write(string.format("requests %d, non-202 %d, socket errors %d\n", summary.requests, failed,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
  io.write(string.format("events/s %.0f (batch %d)\n", ok * batch / secs, batch))
  io.write(string.format("latency p50 %.2f ms, p99 %.2f ms, max %.2f ms\n",
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000))
end
