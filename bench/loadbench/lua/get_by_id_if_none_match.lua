-- GET an asset by id with the If-None-Match of its current ETag, so that
-- every answer is a 304. The first script argument names a file of
-- "<id> <etag>" lines (written by the pre-flight, which read each ETag
-- from the server); the requests walk its lines, each wrk thread from its
-- own offset, as get_by_id.lua does. The pre-flight also checks that
-- each tag answers 304: wrk counts a 200 as a success, and nothing writes
-- during the run, so the tags hold.
local threads = 0

function setup(thread)
  thread:set("offset", threads)
  threads = threads + 1
end

local ids, tags = {}, {}
local n = 0
local next_id = 1

function init(args)
  for line in io.lines(args[1]) do
    local id, tag = line:match("^(%S+) (.+)$")
    if id then
      n = n + 1
      ids[n], tags[n] = id, tag
    end
  end
  next_id = ((offset or 0) * 499) % n + 1
end

function request()
  local i = next_id
  next_id = next_id % n + 1
  return wrk.format("GET", "/api/v1/assets/" .. ids[i], { ["If-None-Match"] = tags[i] })
end
