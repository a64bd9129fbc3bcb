-- wrk script that writes 16 GET requests per write (HTTP/1.1 pipelining, RFC 9112 section 9.3.2).
-- Use as `wrk -s bench/pipeline.lua http://host:port/path`; PIPELINE_DEPTH overrides the 16.

local depth = tonumber(os.getenv("PIPELINE_DEPTH") or "16")
local batch

-- Built once per thread: wrk counts the requests in the string returned by request() and expects
-- that many responses before it calls request() again, so each write carries the whole batch.
function init(args)
  local one = wrk.format(nil, nil)
  batch = string.rep(one, depth)
end

function request()
  return batch
end

-- The summary line lives in report.lua next to this file, found through this chunk's own path.
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "report.lua")
