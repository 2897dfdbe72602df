-- The progress_details route's facts, in one round trip, from the serving generation.
-- ARGV[1] namespace  ARGV[2] program uuid  ARGV[3] user id
-- Returns {generation, program snapshot ("<version>\t<json>", json null when deleted) or false,
--          user hash (flat), certificate courses (flat, see certificate_courses)}
local ns, uuid, uid = ARGV[1], ARGV[2], ARGV[3]
local gen = redis.call("GET", ns .. ":serving:{ctl}") or "1"
local p = ns .. ":g" .. gen .. ":"
-- @include read_stamps
-- @include certificate_courses
-- @include learner_courses
local prog = read("GET", p .. "prog:{progs}" .. uuid)
if not prog then
  return {gen, false, {}, {}}
end
local user = learner_hash(read("HGETALL", p .. "u:{u" .. uid .. "}"))
return {gen, prog, user, certificate_courses(user)}
