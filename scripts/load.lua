-- wrk script: cycles through realistic queries (one per line in $DEFLECT_QUERIES) for
-- GET /v1/search, or through tickets for POST /v1/answer when $DEFLECT_MODE=answer.
-- Prints p50/p99 and a count of non-2xx responses at the end.
local queries = {}
local mode = os.getenv("DEFLECT_MODE") or "search"
local file = os.getenv("DEFLECT_QUERIES")
for line in io.lines(file) do
  if #line > 0 then table.insert(queries, line) end
end
local i = 0
local function urlencode(s)
  return (s:gsub("[^%w%-%._~]", function(c) return string.format("%%%02X", string.byte(c)) end))
end
local function jsonescape(s)
  return (s:gsub('[%c"\\]', function(c)
    if c == '"' then return '\\"' elseif c == '\\' then return '\\\\' else return string.format("\\u%04x", string.byte(c)) end
  end))
end
request = function()
  i = i + 1
  local q = queries[(i % #queries) + 1]
  if mode == "answer" then
    return wrk.format("POST", "/v1/answer", {["content-type"] = "application/json"}, '{"ticket":{"body":"' .. jsonescape(q) .. '"}}')
  end
  return wrk.format("GET", "/v1/search?limit=10&q=" .. urlencode(q))
end
local errors = 0
response = function(status, headers, body)
  if status < 200 or status > 299 then errors = errors + 1 end
end
done = function(summary, latency, requests)
  io.write(string.format("RESULT requests=%d rps=%.0f p50_ms=%.2f p99_ms=%.2f non2xx=%d socket_errors=%d\n",
    summary.requests, summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
