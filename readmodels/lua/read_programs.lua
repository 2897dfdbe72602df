-- The program list route's facts, in one round trip, from the serving generation.
-- ARGV[1] namespace  ARGV[2] user id  ARGV[3..] a kept answer's stamps (read_stamps `unchanged`)
-- Returns nil when they still hold; else {generation, user hash (flat), programs (flat: uuid, program document), certificate
-- courses (flat, see certificate_courses), stamps (read_stamps `stamps`)}: every program holding a run the user is actively
-- enrolled in (deduplicated). Inactive enrollments are skipped here only to save transfer; the view
-- applies the full rules (enterprise links, counting).
local ns, uid = ARGV[1], ARGV[2]
local gen = redis.call("GET", ns .. ":serving:{ctl}") or "1"
local p = ns .. ":g" .. gen .. ":"
-- @include read_stamps
-- @include certificate_courses
-- @include learner_courses
if unchanged(3) then return false end
local user = learner_hash(read("HGETALL", p .. "u:{u" .. uid .. "}"))
local seen, progs = {}, {}
for i = 1, #user, 2 do
  local name = user[i]
  if string.sub(name, 1, 4) == "enr:" then
    local raw = user[i + 1]
    local tab = string.find(raw, "\t", 1, true)
    local ok, enr = pcall(cjson.decode, string.sub(raw, (tab or 0) + 1))
    if ok and type(enr) == "table" and enr["is_active"] == true then
      -- The program uuids first, then each program's document once: a learner's runs of one
      -- program name it in each of their hashes, and its document is several kilobytes.
      local key = p .. "runprogs:{progs}" .. string.sub(name, 5)
      local uuids = read("HKEYS", key)
      for j = 1, #uuids do
        if not seen[uuids[j]] then
          seen[uuids[j]] = true
          progs[#progs + 1] = uuids[j]
          progs[#progs + 1] = read("HGET", key, uuids[j])
        end
      end
    end
  end
end
return {gen, user, progs, #progs > 0 and certificate_courses(user) or {}, stamps()}
