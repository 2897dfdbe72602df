-- What the celebration POST checks, in one round trip: does the course exist, is the effective
-- user enrolled (ever), and the caller's roles (masquerade).
-- ARGV[1] namespace  ARGV[2] course key  ARGV[3] caller id  ARGV[4] masquerade username ("" = none)
-- Returns {generation, course exists (0/1), enrollment field (versioned) or false,
--          caller roles (flat), effective user id, unknown (0/1)}
local ns, ck, caller, uname = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
-- @include learner_prelude
-- @include learner_courses

local exists = read("EXISTS", p .. "course:{" .. ck .. "}")
local enr = false
if uid ~= "" then
  local field = learner_field(p .. "u:{u" .. uid .. "}", "enr:", ck)
  enr = field and read("HGET", p .. "u:{u" .. uid .. "}", field) or false
end
-- The caller's roles only matter to authorise a masquerade.
return {gen, exists, enr, uname ~= "" and roles(caller) or {}, uid, unknown}
