-- Shared by the courseware read scripts (inlined where a script says `-- @include learner_prelude`;
-- EVAL scripts cannot load modules). Expects locals `ns`, `caller` (user id or "") and `uname`
-- (masquerade username or ""). Defines `gen` and `p` (the serving generation and its key prefix),
-- `roles(uid, h)`, and `uid`/`unknown`: the effective user id and whether the username is unknown.
local gen = redis.call("GET", ns .. ":serving:{ctl}") or "1"
local p = ns .. ":g" .. gen .. ":"
-- @include read_stamps

-- The `role:*` fields of a learner hash (flat), from an already read hash when there is one.
local function roles(uid, h)
  local out = {}
  if uid == "" then return out end
  h = h or read("HGETALL", p .. "u:{u" .. uid .. "}")
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
  local v = read("HGET", p .. "unames", uname)
  if v then
    uid = string.sub(v, string.find(v, "\t", 1, true) + 1)
  else
    uid, unknown = "", 1
  end
end
