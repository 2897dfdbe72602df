-- The resume point, resolved against the newest published outline, in one round trip.
-- ARGV[1] namespace  ARGV[2] course key  ARGV[3] caller id  ARGV[4] masquerade username ("" = none)
-- Returns {generation, resume field (versioned) or false, block entry (cblk) or false,
--          caller roles (flat), effective user id, unknown (0/1)}
local ns, ck, caller, uname = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
-- @include learner_prelude
-- @include learner_courses

local resume, blk = false, false
if uid ~= "" then
  local field = learner_field(p .. "u:{u" .. uid .. "}", "resume:", ck)
  resume = field and read("HGET", p .. "u:{u" .. uid .. "}", field) or false
  if resume then
    local block = cjson.decode(string.sub(resume, string.find(resume, "\t", 1, true) + 1))
    if type(block) == "string" then
      blk = read("HGET", p .. "cblk:{" .. ck .. "}", block) or false
    end
  end
end
-- The caller's roles only matter to authorise a masquerade.
return {gen, resume, blk, uname ~= "" and roles(caller) or {}, uid, unknown}
