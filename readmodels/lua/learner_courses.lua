-- The learner's course dictionary, for the read scripts (inlined where a script says
-- `-- @include learner_courses`; learner_dictionary.LEARNER_COURSES). A learner hash stores `#<course key>` ->
-- index and `#` -> count, and a field naming a course (`enr:<course key>`, ...) as `<index><tail>`:
-- the tail one letter for the usual prefixes (STORED_TAILS, the same table as learner_dictionary.STORED_TAILS),
-- else the prefix itself; a short subsection grade field `sub:<org>+<course>+<run>|<type>|<id>` as
-- `<index>|<type>|<id>` (`<index>|<id>` for a `sequential`); an activity member `<kind>\t<course key>\t<bucket>` as
-- `<kind>\t<index>\t<bucket>`.
-- learner_hash(h): a flat HGETALL reply of a learner hash -> its canonical fields, flat (the
--   dictionary left out; learner_dictionary.learner_fields), and index -> course key.
-- learner_activity(act, courses): a flat ZRANGE WITHSCORES reply with canonical members
--   (learner_dictionary.canonical_activity_member).
-- learner_field(key, prefix, ck): the stored field of `<prefix><ck>` in the learner hash `key`
--   (full key), false when the learner never had a fact in the course.
local STORED_TAILS = {
  ["enr:"] = "e", ["grade:"] = "g", ["pass:"] = "p", ["cert:"] = "c", ["goal:"] = "o", ["resume:"] = "r",
  ["sig:"] = "s", ["cel:first_section:"] = "f", ["cel:weekly_goal:"] = "w",
}
local CANONICAL_PREFIXES = {}
for prefix, tail in pairs(STORED_TAILS) do CANONICAL_PREFIXES[tail] = prefix end

local function learner_hash(h)
  -- One pass over the reply; the fields stored under an index are translated once the dictionary
  -- is complete and come first: a field naming a course found under its canonical name (never
  -- written so: hand-made or corrupted) comes after and wins in a reader's dict, as in
  -- learner_dictionary.learner_fields.
  local courses, indexed, plain, m, q = {}, {}, {}, 0, 0
  for i = 1, #h, 2 do
    local b = string.byte(h[i], 1)
    if b == 35 then  -- "#"
      if #h[i] > 1 then courses[h[i + 1]] = string.sub(h[i], 2) end
    elseif b and b >= 48 and b <= 57 then
      m = m + 1
      indexed[m] = i
    else
      q = q + 1
      plain[q] = i
    end
  end
  local out, n, sub_heads = {}, 0, {}
  for j = 1, m do
    local i = indexed[j]
    local f = h[i]
    local k = 1  -- the index's digits: usually one
    local b = string.byte(f, 2)
    while b and b >= 48 and b <= 57 do
      k = k + 1
      b = string.byte(f, k + 1)
    end
    local index = string.sub(f, 1, k)
    local ck = courses[index] or ("<unknown course index " .. index .. ">")
    if b == 124 then  -- "|": learner_dictionary.learner_field_course, a short subsection field
      local head = sub_heads[index]
      if not head then
        head = "sub:" .. (string.sub(ck, 1, 10) == "course-v1:" and string.sub(ck, 11) or ck) .. "|"
        sub_heads[index] = head
      end
      if string.find(f, "|", k + 2, true) then
        f = head .. string.sub(f, k + 2)
      else
        f = head .. "sequential|" .. string.sub(f, k + 2)
      end
    else
      local rest = string.sub(f, k + 1)
      f = (CANONICAL_PREFIXES[rest] or rest) .. ck
    end
    out[n + 1] = f
    out[n + 2] = h[i + 1]
    n = n + 2
  end
  for j = 1, q do
    local i = plain[j]
    out[n + 1] = h[i]
    out[n + 2] = h[i + 1]
    n = n + 2
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
  local index = read("HGET", key, "#" .. ck)
  return index and (index .. (STORED_TAILS[prefix] or prefix)) or false
end
