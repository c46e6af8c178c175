-- GET /api/v1/assets/{id}, walking ids 1..n (n is the first script
-- argument). Each wrk thread starts at its own offset, so that the threads
-- do not ask for the same row at the same moment.
local threads = 0

-- setup runs once per thread in wrk's main Lua state, before the thread's
-- own state exists; what it sets becomes a global of that thread.
function setup(thread)
  thread:set("offset", threads)
  threads = threads + 1
end

local n = 1000
local next_id = 1

function init(args)
  n = tonumber(args[1]) or n
  next_id = ((offset or 0) * 499) % n + 1
end

function request()
  local id = next_id
  next_id = next_id % n + 1
  return wrk.format("GET", "/api/v1/assets/" .. id)
end
