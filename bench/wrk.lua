-- wrk script for shouye benchmarks. Environment:
--   BENCH_MODE  healthz (the reference: GET /healthz, no token) | create | get | patch | overview
--   BENCH_TOKEN bearer token
--   BENCH_MAXID highest work-order id (get, patch)
local mode = os.getenv("BENCH_MODE") or "create"
local token = os.getenv("BENCH_TOKEN") or ""
local maxid = tonumber(os.getenv("BENCH_MAXID") or "1")
local counter = 0
local thread_id = 0
local threads = {}

function setup(thread)
  thread:set("thread_id", #threads)
  table.insert(threads, thread)
end

function init(args)
  math.randomseed(os.time() + thread_id * 7919)
end

local groups = { "broadband", "mobile" }
-- the n-th demo subscriber (src/demo.c demo_msisdn)
local prefixes = { "138", "139", "135", "136", "137", "150", "151", "152",
                   "157", "158", "159", "182", "183", "187", "188", "198" }
local function msisdn(n)
  return prefixes[(n % 16) + 1] .. string.format("%08d", math.floor(n / 16))
end

function request()
  counter = counter + 1
  if mode == "healthz" then
    return wrk.format("GET", "/healthz")
  end
  local h = { ["Authorization"] = "Bearer " .. token }
  if mode == "create" then
    h["Content-Type"] = "application/json"
    local body = string.format(
      '{"description":"bench 宽带网速慢 %d","severity":"Minor","ticketType":"complaint",' ..
      '"category":"网速慢","service":"broadband","area":"GD.SZ.NS",' ..
      '"relatedParty":[{"id":"C%d-%d","role":"customer"}]}', counter, thread_id, counter)
    return wrk.format("POST", "/tmf-api/troubleTicket/v4/troubleTicket", h, body)
  elseif mode == "overview" then
    local n = math.random(0, maxid - 1)
    return wrk.format("GET", "/api/v1/subscribers/" .. msisdn(n) .. "/overview", h)
  elseif mode == "get" then
    local id = math.random(1, maxid)
    return wrk.format("GET", "/tmf-api/troubleTicket/v4/troubleTicket/" .. id, h)
  else
    h["Content-Type"] = "application/merge-patch+json"
    local id = math.random(1, maxid)
    local body = string.format('{"assignedGroup":"%s","statusChangeReason":"bench"}', groups[(counter % 2) + 1])
    return wrk.format("PATCH", "/tmf-api/troubleTicket/v4/troubleTicket/" .. id, h, body)
  end
end

function done(summary, latency, requests)
  local secs = summary.duration / 1e6
  io.write(string.format(
    'WRKJSON {"requests":%d,"rps":%.1f,"p50_ms":%.3f,"p90_ms":%.3f,"p99_ms":%.3f,"max_ms":%.3f,' ..
    '"non2xx":%d,"socket_errors":%d}\n',
    summary.requests, summary.requests / secs, latency:percentile(50) / 1000,
    latency:percentile(90) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
    summary.errors.status, summary.errors.connect + summary.errors.read + summary.errors.write +
    summary.errors.timeout))
end
