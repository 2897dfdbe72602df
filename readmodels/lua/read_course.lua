-- Everything the course-metadata route needs, in one round trip, from the serving generation.
-- ARGV[1] namespace  ARGV[2] course key  ARGV[3] caller id ("" = anonymous)
-- ARGV[4] masquerade username ("" = none)  ARGV[5..] a kept answer's stamps (read_stamps `unchanged`)
-- Returns nil when they still hold; else
--         {generation, course snapshot or false, catalog info or false, user hash (flat),
--          run programs (flat), activity (flat member/score), caller roles (flat),
--          effective user id ("" = anonymous or unknown username), username unknown (0/1),
--          certificate courses (flat, see certificate_courses: for the related programs' counts),
--          stamps (read_stamps `stamps`)}
local ns, ck, caller, uname = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
-- @include learner_prelude
-- @include certificate_courses
-- @include learner_courses
if unchanged(5) then return false end

local course = read("GET", p .. "course:{" .. ck .. "}")
if not course then
  return {gen, false, false, {}, {}, {}, uname ~= "" and roles(caller) or {}, uid, unknown, {}, stamps()}
end
local cat = read("HGET", p .. "ccat:{" .. ck .. "}", "info")
local user, act = {}, {}
if uid ~= "" then
  local courses
  user, courses = learner_hash(read("HGETALL", p .. "u:{u" .. uid .. "}"))
  act = learner_activity(read("ZRANGE", p .. "ua:{u" .. uid .. "}", 0, -1, "WITHSCORES"), courses)
end
local progs = read("HGETALL", p .. "runprogs:{progs}" .. ck)
-- Only the programs of this run are counted: no certificate course matters without one.
local certs = #progs > 0 and certificate_courses(user) or {}
-- The caller's roles only matter to authorise a masquerade.
local croles = uname ~= "" and roles(caller) or {}
return {gen, course, cat or false, user, progs, act, croles, uid, unknown, certs, stamps()}
