-- Pause, then resume, each of a thread's own campaigns in turn: a campaign is touched again
-- only after all the others, so no two requests race over one campaign.
-- (wrk runs LuaJIT, Lua 5.1: no // operator.)
-- Each campaign's next action follows its status as the last answer showed it, not a
-- counter: wrk may build a request it never sends (one per run was seen: a counter then
-- drifted and a resume met an active campaign, a 409 that was the script's fault).
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
  paused = {}
end

function request()
  local id = ids[first + (step % size) + 1]
  step = step + 1
  local action = paused[id] and "resume" or "pause"
  return wrk.format("POST", "/campaigns/" .. id .. "/" .. action, {["Authorization"] = "Bearer bench"}, nil)
end

function response(status, headers, body)
  local id = string.match(body, '"id":"([^"]+)"')
  local state = string.match(body, '"status":"(%a+)"')
  if status == 200 and id and state then paused[id] = (state == "paused") end
end
