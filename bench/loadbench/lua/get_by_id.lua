-- GET an asset by id, walking ids 1..n (n is the first script argument).
-- Optional: the second argument replaces the path prefix "/api/v1/assets/"
-- (PocketBase: "/api/collections/assets/records/"), and the third names a
-- file of ids, one a line, to walk instead of 1..n (PocketBase's record
-- ids are random strings). Each wrk thread starts at its own offset, so
-- that the threads do not ask for the same row at the same moment.
local threads = 0

-- setup runs once per thread in wrk's main Lua state, before the thread's
-- own state exists; what it sets becomes a global of that thread.
function setup(thread)
  thread:set("offset", threads)
  threads = threads + 1
end

local n = 1000
local prefix = "/api/v1/assets/"
local ids = nil
local next_id = 1

function init(args)
  n = tonumber(args[1]) or n
  if args[2] and args[2] ~= "" then
    prefix = args[2]
  end
  if args[3] and args[3] ~= "" then
    ids = {}
    for line in io.lines(args[3]) do
      if line ~= "" then
        ids[#ids + 1] = line
      end
    end
    n = #ids
  end
  next_id = ((offset or 0) * 499) % n + 1
end

function request()
  local id = next_id
  next_id = next_id % n + 1
  if ids then
    id = ids[id]
  end
  return wrk.format("GET", prefix .. id)
end
