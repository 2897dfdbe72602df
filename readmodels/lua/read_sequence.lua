-- Everything the sequence-metadata route needs, in one round trip, from the serving generation.
-- ARGV[1] namespace  ARGV[2] course key  ARGV[3] usage key  ARGV[4] caller id ("" = anonymous)
-- ARGV[5] masquerade username ("" = none)  ARGV[6..] a kept answer's stamps (read_stamps `unchanged`)
-- Returns nil when they still hold; else {generation, course snapshot or false, block entry (cblk) or false, sequence doc or false,
--          user hash (flat, with the sequence's position as `pos:<usage key>` and its units'
--          bookmarks as `bm:<usage key>`), completions of its units' completable blocks (flat:
--          completion field, "\t<json>"), caller roles
--          (flat), effective user id, unknown (0/1), catalog info or false, stamps (read_stamps `stamps`)}
local ns, ck, usage, caller, uname = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
-- @include learner_prelude
-- @include learner_courses
if unchanged(6) then return false end

-- The learner's per-block facts that the sequence's body shows (readmodels/views/sequence.py): the
-- completions of its units' completable blocks, the units' bookmarks and the sequence's position.
-- They are looked up by their blocks' fields in the course's block dictionary (HMGET of `bid:`,
-- then of `uc:`), so the cost follows the sequence's few blocks, not the learner's facts in the
-- whole course (each of which had to be translated back through `bid:`).
-- Stored (keys.completions): `<i>` -> compact completion record (readmodels/compact.py: 8 digits
-- of modified, a difference marker (64 +- k) and its k digits, 8 digits of ce_id, then the
-- completion's JSON, empty for 1.0), returned as completion field -> "\t<json>"; `p<i>` / `b<i>`
-- -> position / bookmark, added to `user` as `pos:` / `bm:` <usage key> (fieldnames.f_position,
-- fieldnames.f_bookmark). <i>: the block's index in bid:<ck>, whose fields are keys.completion_field.
local function completion_field(block)
  -- keys.completion_field: `<type>@<id>` for a block of the course's own `block-v1:` form (when
  -- keys.completion_block gives the key back: no `:` in it and no `@` in the type), else the key.
  local head = string.sub(ck, 1, 10) == "course-v1:" and ("block-v1:" .. string.sub(ck, 11) .. "+type@") or ""
  if head ~= "" and string.sub(block, 1, #head) == head then
    local rest = string.sub(block, #head + 1)
    local at = string.find(rest, "+block@", 1, true)
    if at then
      local block_type = string.sub(rest, 1, at - 1)
      local short = block_type .. "@" .. string.sub(rest, at + 7)
      if not string.find(short, ":", 1, true) and not string.find(block_type, "@", 1, true) then
        return short
      end
    end
  end
  return block
end

local function hmget(key, fields)
  -- HMGET in chunks (bounded `unpack`)
  local out = {}
  for first = 1, #fields, 1000 do
    local got = read("HMGET", key, unpack(fields, first, math.min(first + 999, #fields)))
    for j = 1, #got do out[#out + 1] = got[j] end
  end
  return out
end

local function sequence_facts(doc, user, completions_key, ids_key)
  local blocks, tags = {usage}, {"p"}  -- keys.POSITION_TAG, keys.BOOKMARK_TAG
  local units = type(doc) == "table" and doc.units
  if type(units) == "table" then
    for _, unit in ipairs(units) do
      if type(unit) == "table" and type(unit.block_key) == "string" then
        blocks[#blocks + 1] = unit.block_key
        tags[#tags + 1] = "b"
        if type(unit.completable) == "table" then
          for _, block in ipairs(unit.completable) do
            if type(block) == "string" then
              blocks[#blocks + 1] = block
              tags[#tags + 1] = ""
            end
          end
        end
      end
    end
  end
  local fields = {}
  for i = 1, #blocks do fields[i] = completion_field(blocks[i]) end
  local indexes = hmget(p .. ids_key, fields)
  local wanted, at = {}, {}
  for i = 1, #blocks do
    if indexes[i] then
      wanted[#wanted + 1] = tags[i] .. indexes[i]
      at[#wanted] = i
    end
  end
  local records = {}
  if #wanted == 0 then return records end
  local got = hmget(p .. completions_key, wanted)
  for j = 1, #wanted do
    local v, i = got[j], at[j]
    if v then
      local tag = tags[i]
      if tag == "" then
        local k = string.byte(v, 9) - 64
        if k < 0 then k = -k end
        local json = string.sub(v, 18 + k)  -- 8 + 1 + k + 8 characters of version before it
        records[#records + 1] = fields[i]
        records[#records + 1] = "\t" .. (json == "" and "1.0" or json)
      else
        user[#user + 1] = (tag == "p" and "pos:" or "bm:") .. blocks[i]
        user[#user + 1] = v
      end
    end
  end
  return records
end

local course = read("GET", p .. "course:{" .. ck .. "}")
if not course then
  return {gen, false, false, false, {}, {}, {}, uid, unknown, false, stamps()}
end
local cat = read("HGET", p .. "ccat:{" .. ck .. "}", "info")
local blk = read("HGET", p .. "cblk:{" .. ck .. "}", usage)
local seq = read("HGET", p .. "cseq:{" .. ck .. "}", usage)
local user, done = {}, {}
if seq and uid ~= "" then
  user = learner_hash(read("HGETALL", p .. "u:{u" .. uid .. "}"))
  done = sequence_facts(cjson.decode(seq), user, "uc:{u" .. uid .. "}:" .. ck, "bid:{" .. ck .. "}")
end
-- Staff never see content hidden after its due date: the caller's roles always matter here.
local croles = (uid == caller and seq) and roles(caller, user) or roles(caller)
return {gen, course, blk or false, seq or false, user, done, croles, uid, unknown, cat or false, stamps()}
