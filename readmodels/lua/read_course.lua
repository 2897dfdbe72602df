-- Everything the course-metadata route needs, in one round trip, from the serving generation.
-- ARGV[1] namespace  ARGV[2] course key  ARGV[3] caller id ("" = anonymous)
-- ARGV[4] masquerade username ("" = none)
-- Returns {generation, course snapshot or false, catalog info or false, user hash (flat),
--          run programs (flat), activity (flat member/score), caller roles (flat),
--          effective user id ("" = anonymous or unknown username), username unknown (0/1)}
local ns, ck, caller, uname = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local gen = redis.call("GET", ns .. ":serving") or "1"
local p = ns .. ":g" .. gen .. ":"

-- The `role:*` fields of a learner hash (flat), from an already read hash when there is one.
local function roles(uid, h)
  local out = {}
  if uid == "" then return out end
  h = h or redis.call("HGETALL", p .. "u:" .. uid)
  for i = 1, #h, 2 do
    if string.sub(h[i], 1, 5) == "role:" then
      out[#out + 1] = h[i]
      out[#out + 1] = h[i + 1]
    end
  end
  return out
end

local uid, unknown = caller, 0
if uname ~= "" then
  local v = redis.call("HGET", p .. "unames", uname)
  if v then
    uid = string.sub(v, string.find(v, "\t", 1, true) + 1)
  else
    uid, unknown = "", 1
  end
end

local course = redis.call("GET", p .. "course:" .. ck)
if not course then
  return {gen, false, false, {}, {}, {}, uname ~= "" and roles(caller) or {}, uid, unknown}
end
local cat = redis.call("HGET", p .. "ccat:" .. ck, "info")
local user, act = {}, {}
if uid ~= "" then
  user = redis.call("HGETALL", p .. "u:" .. uid)
  act = redis.call("ZRANGE", p .. "ua:" .. uid, 0, -1, "WITHSCORES")
end
local progs = redis.call("HGETALL", p .. "runprogs:" .. ck)
-- The caller's roles only matter to authorise a masquerade.
return {gen, course, cat or false, user, progs, act, uname ~= "" and roles(caller) or {}, uid, unknown}
