-- Everything the sequence-metadata route needs, in one round trip, from the serving generation.
-- ARGV[1] namespace  ARGV[2] course key  ARGV[3] usage key  ARGV[4] caller id ("" = anonymous)
-- ARGV[5] masquerade username ("" = none)
-- Returns {generation, course snapshot or false, block entry (cblk) or false, sequence doc or false,
--          user hash (flat, with the positions and bookmarks in this course as `pos:<usage key>`
--          and `bm:<usage key>`), completions (flat: completion field, "\t<json>"), caller roles
--          (flat), effective user id, unknown (0/1), catalog info or false}
local ns, ck, usage, caller, uname = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
-- @include learner_prelude
-- @include learner_courses

local course = redis.call("GET", p .. "course:{" .. ck .. "}")
if not course then
  return {gen, false, false, false, {}, {}, {}, uid, unknown, false}
end
local cat = redis.call("HGET", p .. "ccat:{" .. ck .. "}", "info")
local blk = redis.call("HGET", p .. "cblk:{" .. ck .. "}", usage)
local seq = redis.call("HGET", p .. "cseq:{" .. ck .. "}", usage)
local user, done = {}, {}
if seq and uid ~= "" then
  user = learner_hash(redis.call("HGETALL", p .. "u:{u" .. uid .. "}"))
  done = redis.call("HGETALL", p .. "uc:{u" .. uid .. "}:" .. ck)
  -- Stored (keys.completions): `<i>` -> compact completion record (readmodels/compact.py: 8 digits
  -- of modified, a difference marker (64 +- k) and its k digits, 8 digits of ce_id, then the
  -- completion's JSON, empty for 1.0), returned as completion field -> "\t<json>"; `p<i>` / `b<i>`
  -- -> position / bookmark, moved to the user hash as `pos:` / `bm:` <usage key> (keys.f_position,
  -- keys.f_bookmark), the usage key rebuilt from the completion field as keys.completion_block does.
  -- <i>: the block's index in bid:<ck>.
  -- Indexes are read back with HMGET in chunks (bounded `unpack`).
  local ids, tags, names = p .. "bid:{" .. ck .. "}", {}, {}
  for first = 1, #done, 1000 do
    local chunk = {}
    for i = first, math.min(first + 999, #done), 2 do
      local tag, index = string.match(done[i], "^(%a*)(%d+)$")
      tags[#tags + 1] = tag or ""
      chunk[#chunk + 1] = index or ""
    end
    local got = redis.call("HMGET", ids, unpack(chunk))
    for j = 1, #got do names[#names + 1] = got[j] end
  end
  local head = string.sub(ck, 1, 10) == "course-v1:" and ("block-v1:" .. string.sub(ck, 11) .. "+type@") or ""
  local records = {}
  for i = 1, #done, 2 do
    local n = (i + 1) / 2
    local name, tag, v = names[n] or "", tags[n], done[i + 1]
    if tag == "" then
      local k = string.byte(v, 9) - 64
      if k < 0 then k = -k end
      local json = string.sub(v, 18 + k)  -- 8 + 1 + k + 8 characters of version before it
      records[#records + 1] = name
      records[#records + 1] = "\t" .. (json == "" and "1.0" or json)
    elseif name ~= "" then
      local usage = name
      if not string.find(name, ":", 1, true) then
        local at = string.find(name, "@", 1, true) or (#name + 1)
        usage = head .. string.sub(name, 1, at - 1) .. "+block@" .. string.sub(name, at + 1)
      end
      if tag == "p" or tag == "b" then  -- keys.POSITION_TAG, keys.BOOKMARK_TAG
        user[#user + 1] = (tag == "p" and "pos:" or "bm:") .. usage
        user[#user + 1] = v
      end
    end
  end
  done = records
end
-- Staff never see content hidden after its due date: the caller's roles always matter here.
local croles = (uid == caller and seq) and roles(caller, user) or roles(caller)
return {gen, course, blk or false, seq or false, user, done, croles, uid, unknown, cat or false}
