-- wrk script: cycles through realistic queries (one per line in $DEFLECT_QUERIES) for
-- GET /v1/search, or through tickets for POST /v1/answer when $DEFLECT_MODE=answer.
-- Prints p50/p99 and the count of 4xx/5xx responses (wrk's own status-error count) at the end.
--
-- The load generator shares the machine's cores with the server, so it is kept lean: every
-- request is formatted once at start-up, and there is no per-response Lua callback (defining
-- `response` makes wrk hand each response's headers and body to Lua). On 2 cores that cut
-- wrk's own CPU from ~1.0 to ~0.2 s per 8 s run at 32 connections.
local mode = os.getenv("DEFLECT_MODE") or "search"
local file = os.getenv("DEFLECT_QUERIES")
local function urlencode(s)
  return (s:gsub("[^%w%-%._~]", function(c) return string.format("%%%02X", string.byte(c)) end))
end
local function jsonescape(s)
  return (s:gsub('[%c"\\]', function(c)
    if c == '"' then return '\\"' elseif c == '\\' then return '\\\\' else return string.format("\\u%04x", string.byte(c)) end
  end))
end
local formatted = {}
for line in io.lines(file) do
  if #line > 0 then
    if mode == "answer" then
      table.insert(formatted, wrk.format("POST", "/v1/answer", {["content-type"] = "application/json"},
        '{"ticket":{"body":"' .. jsonescape(line) .. '"}}'))
    else
      table.insert(formatted, wrk.format("GET", "/v1/search?limit=10&q=" .. urlencode(line)))
    end
  end
end
local i = 0
request = function()
  i = i + 1
  return formatted[(i % #formatted) + 1]
end
done = function(summary, latency, requests)
  io.write(string.format("RESULT requests=%d rps=%.0f p50_ms=%.2f p99_ms=%.2f http_errors=%d socket_errors=%d\n",
    summary.requests, summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
