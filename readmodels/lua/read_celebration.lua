-- What the celebration POST checks, in one round trip: does the course exist, is the effective
-- user enrolled (ever), and the caller's roles (masquerade).
-- ARGV[1] namespace  ARGV[2] course key  ARGV[3] caller id  ARGV[4] masquerade username ("" = none)
-- Returns {generation, course exists (0/1), enrollment field (versioned) or false,
--          caller roles (flat), effective user id, unknown (0/1)}
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

local exists = redis.call("EXISTS", p .. "course:" .. ck)
local enr = false
if uid ~= "" then
  enr = redis.call("HGET", p .. "u:" .. uid, "enr:" .. ck) or false
end
-- The caller's roles only matter to authorise a masquerade.
return {gen, exists, enr, uname ~= "" and roles(caller) or {}, uid, unknown}
