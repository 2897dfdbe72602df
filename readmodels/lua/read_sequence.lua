-- Everything the sequence-metadata route needs, in one round trip, from the serving generation.
-- ARGV[1] namespace  ARGV[2] course key  ARGV[3] usage key  ARGV[4] caller id ("" = anonymous)
-- ARGV[5] masquerade username ("" = none)
-- Returns {generation, course snapshot or false, block entry (cblk) or false, sequence doc or false,
--          user hash (flat), completions (flat), caller roles (flat), effective user id, unknown (0/1),
--          catalog info or false}
local ns, ck, usage, caller, uname = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
-- @include learner_prelude

local course = redis.call("GET", p .. "course:" .. ck)
if not course then
  return {gen, false, false, false, {}, {}, {}, uid, unknown, false}
end
local cat = redis.call("HGET", p .. "ccat:" .. ck, "info")
local blk = redis.call("HGET", p .. "cblk:" .. ck, usage)
local seq = redis.call("HGET", p .. "cseq:" .. ck, usage)
local user, done = {}, {}
if seq and uid ~= "" then
  user = redis.call("HGETALL", p .. "u:" .. uid)
  done = redis.call("HGETALL", p .. "uc:" .. uid .. ":" .. ck)
end
-- Staff never see content hidden after its due date: the caller's roles always matter here.
local croles = (uid == caller and seq) and roles(caller, user) or roles(caller)
return {gen, course, blk or false, seq or false, user, done, croles, uid, unknown, cat or false}
