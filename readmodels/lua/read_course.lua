-- Everything the course-metadata route needs, in one round trip, from the serving generation.
-- ARGV[1] namespace  ARGV[2] course key  ARGV[3] user id ("" = anonymous)  ARGV[4] caller id ("" = none)
-- Returns {generation, course snapshot or false, catalog info or false, user hash (flat),
--          run programs (flat), activity (flat member/score), caller hash (flat, when masquerading)}
local ns, ck, uid, caller = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local gen = redis.call("GET", ns .. ":serving") or "1"
local p = ns .. ":g" .. gen .. ":"
local course = redis.call("GET", p .. "course:" .. ck)
if not course then
  return {gen, false}
end
local cat = redis.call("HGET", p .. "ccat:" .. ck, "info")
local user, act, callerh = {}, {}, {}
if uid ~= "" then
  user = redis.call("HGETALL", p .. "u:" .. uid)
  act = redis.call("ZRANGE", p .. "ua:" .. uid, 0, -1, "WITHSCORES")
end
if caller ~= "" and caller ~= uid then
  callerh = redis.call("HGETALL", p .. "u:" .. caller)
end
local progs = redis.call("HGETALL", p .. "runprogs:" .. ck)
return {gen, course, cat or false, user, progs, act, callerh}
