-- Pause, then resume, each of a thread's own campaigns in turn: a campaign is touched again
-- (wrk runs LuaJIT, Lua 5.1: no // operator.)
-- only after all the others, so no two requests race over one campaign.
local threads = {}

function setup(thread)
  thread:set("index", #threads)
  table.insert(threads, thread)
end

function init(args)
  ids = {}
  for id in string.gmatch(os.getenv("BENCH_IDS") or "", "[^,]+") do table.insert(ids, id) end
  local count = math.floor(#ids / tonumber(os.getenv("BENCH_THREADS") or "1"))
  first = index * count
  size = count
  step = 0
end

function request()
  local id = ids[first + (step % size) + 1]
  local action = (math.floor(step / size) % 2 == 0) and "pause" or "resume"
  step = step + 1
  return wrk.format("POST", "/campaigns/" .. id .. "/" .. action, {["Authorization"] = "Bearer bench"}, nil)
end
