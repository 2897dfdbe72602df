-- The learner's course dictionary, for the read scripts (inlined where a script says
-- `-- @include learner_courses`; keys.LEARNER_COURSES). A learner hash stores `#<course key>` ->
-- index and `#` -> count, and a field naming a course (`enr:<course key>`, ...) as `<index><tail>`:
-- the tail one letter for the usual prefixes (STORED_TAILS, the same table as keys.STORED_TAILS),
-- else the prefix itself; a short subsection grade field `sub:<org>+<course>+<run>|<type>|<id>` as
-- `<index>|<type>|<id>` (`<index>|<id>` for a `sequential`); an activity member `<kind>\t<course key>\t<bucket>` as
-- `<kind>\t<index>\t<bucket>`.
-- learner_hash(h): a flat HGETALL reply of a learner hash -> its canonical fields, flat (the
--   dictionary left out; keys.learner_fields), and index -> course key.
-- learner_activity(act, courses): a flat ZRANGE WITHSCORES reply with canonical members
--   (keys.canonical_activity_member).
-- learner_field(key, prefix, ck): the stored field of `<prefix><ck>` in the learner hash `key`
--   (full key), false when the learner never had a fact in the course.
local STORED_TAILS = {
  ["enr:"] = "e", ["grade:"] = "g", ["pass:"] = "p", ["cert:"] = "c", ["goal:"] = "o", ["resume:"] = "r",
  ["sig:"] = "s", ["cel:first_section:"] = "f", ["cel:weekly_goal:"] = "w",
}
local CANONICAL_PREFIXES = {}
for prefix, tail in pairs(STORED_TAILS) do CANONICAL_PREFIXES[tail] = prefix end

local function learner_hash(h)
  local courses = {}
  for i = 1, #h, 2 do
    if string.byte(h[i], 1) == 35 and #h[i] > 1 then courses[h[i + 1]] = string.sub(h[i], 2) end
  end
  local out = {}
  for i = 1, #h, 2 do
    local f = h[i]
    local b = string.byte(f, 1)
    if b ~= 35 then
      if b and b >= 48 and b <= 57 then
        local index, rest = string.match(f, "^(%d+)(.*)$")
        local ck = courses[index] or ("<unknown course index " .. index .. ">")
        if string.byte(rest, 1) == 124 then  -- "|": keys.learner_field_course, a short subsection field
          local block = string.sub(rest, 2)
          if not string.find(block, "|", 1, true) then block = "sequential|" .. block end
          f = "sub:" .. (string.sub(ck, 1, 10) == "course-v1:" and string.sub(ck, 11) or ck) .. "|" .. block
        else
          f = (CANONICAL_PREFIXES[rest] or rest) .. ck
        end
      end
      out[#out + 1] = f
      out[#out + 1] = h[i + 1]
    end
  end
  return out, courses
end

local function learner_activity(act, courses)
  for i = 1, #act, 2 do
    local kind, index, bucket = string.match(act[i], "^([^\t]*)\t(%d+)\t(.*)$")
    if kind then
      act[i] = kind .. "\t" .. (courses[index] or ("<unknown course index " .. index .. ">")) .. "\t" .. bucket
    end
  end
  return act
end

local function learner_field(key, prefix, ck)
  local index = redis.call("HGET", key, "#" .. ck)
  return index and (index .. (STORED_TAILS[prefix] or prefix)) or false
end
