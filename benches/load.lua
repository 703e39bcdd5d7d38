-- wrk script of benches/run.sh. Two kinds of request, chosen by the environment:
--   TOKENS_FILE=path   GET /api/v1/me/progress, each request as another learner (one access
--                      token per line, taken in turn, each thread starting elsewhere in the list)
--   SESSIONS_FILE=path GET /progress, the learner's page, each request as another learner (one
--                      page-session cookie value per line, taken in turn as the tokens are)
--   MAX_ID=n           GET /learners/{id} of the baseline server, id drawn uniformly from 1..n
-- RATE=r (requests/s for the whole run; wrk's -t threads share it) sends on a fixed schedule:
-- request k of a thread is due at start + k/rate, whether or not earlier answers came back, as
-- long as a connection is free — run with enough connections that one always is (see run.sh).
-- Unset, every connection sends its next request as soon as the answer arrives (saturation).
-- Every request says `Accept-Encoding: gzip, deflate, br`, as a phone's browser or HTTP library
-- does (the baseline's answer is too short for that to matter; /me/progress then sends gzip).
-- At the end one line `RESULT key=value …` for run.sh to read.

local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
  int clock_gettime(int clock, bench_timespec *ts);
]]
local CLOCK_MONOTONIC = 1
local timespec = ffi.new("bench_timespec")
local function now_us()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, timespec)
  return tonumber(timespec.tv_sec) * 1e6 + tonumber(timespec.tv_nsec) / 1e3
end

local threads = {}
local thread_count = 0

function setup(thread)
  thread:set("thread_index", thread_count)
  thread_count = thread_count + 1
  table.insert(threads, thread)
end

local tokens
local pages
local next_token
local max_id
local interval_us
local next_due

function init(args)
  local file = os.getenv("TOKENS_FILE") or os.getenv("SESSIONS_FILE")
  pages = os.getenv("SESSIONS_FILE") ~= nil
  if file then
    tokens = {}
    for line in io.lines(file) do
      if #line > 0 then
        tokens[#tokens + 1] = line
      end
    end
    assert(#tokens > 0, "TOKENS_FILE holds no token")
    next_token = (thread_index * 7919) % #tokens
  else
    max_id = tonumber(os.getenv("MAX_ID")) or error("set TOKENS_FILE or MAX_ID")
    math.randomseed(os.time() + thread_index * 104729)
  end
  local rate = tonumber(os.getenv("RATE") or "")
  local share = tonumber(os.getenv("THREADS") or "1")
  if rate and rate > 0 then
    interval_us = 1e6 * share / rate
  end
end

function delay()
  if not interval_us then
    return 0
  end
  local now = now_us()
  next_due = (next_due or now) + interval_us
  local wait_ms = (next_due - now) / 1000
  if wait_ms < 1 then
    return 0
  end
  return math.floor(wait_ms)
end

local ACCEPT_ENCODING = "gzip, deflate, br"

function request()
  if tokens and pages then
    next_token = next_token % #tokens + 1
    return wrk.format("GET", "/progress", {
      ["Cookie"] = "sp_session=" .. tokens[next_token], ["Accept-Encoding"] = ACCEPT_ENCODING })
  end
  if tokens then
    next_token = next_token % #tokens + 1
    return wrk.format("GET", "/api/v1/me/progress", {
      ["Authorization"] = "Bearer " .. tokens[next_token], ["Accept-Encoding"] = ACCEPT_ENCODING })
  end
  return wrk.format("GET", "/learners/" .. math.random(max_id), { ["Accept-Encoding"] = ACCEPT_ENCODING })
end

function done(summary, latency, requests)
  local seconds = summary.duration / 1e6
  local e = summary.errors
  io.write(string.format(
    "RESULT requests=%d seconds=%.3f rps=%.1f p50_ms=%.3f p99_ms=%.3f max_ms=%.3f socket_errors=%d non_2xx=%d\n",
    summary.requests, seconds, summary.requests / seconds,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
    e.connect + e.read + e.write + e.timeout, e.status))
end
