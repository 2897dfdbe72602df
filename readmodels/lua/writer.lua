#!lua flags=allow-cross-slot-keys
-- Apply a batch of projection operations and the consumer checkpoints atomically.
-- KEYS: none (keys derive from the generation prefix). On a Redis Cluster the caller sends each
-- node the ops of its own keys (readmodels/cluster_writer.py; several slots of one node: the flag
-- above) and the checkpoints last, to the node of the control keys.
-- ARGV[1] prefix "<ns>:g<gen>:"   ARGV[2] ops JSON   ARGV[3] checkpoints JSON [[field, offset], ...]
-- ARGV[4] channel for applied checkpoints ("" = none)   ARGV[5] channel for changed keys ("" = none)
-- ARGV[6] the serving pointer key ("" = none)   ARGV[7] "1": report the ops that took effect
-- Returns a flat array: first the serving pointer's value as of this write (false when unset or
-- not asked for; it saves the live projector a round trip to check for a switch), then, when
-- ARGV[7] asks for it, for every op that took effect, its 1-based index and the previous raw
-- value (false when none). The projectors do not ask (their change records come from their own
-- replay, projectors/changes.py): the reply then stays one element, however large the batch.
--
-- Ops (see readmodels/ops.py):
--   {"H", key, field, version, json}                    last-writer-wins hash field
--   {"H", key, tail, version, json, course_key}         the same on a learner field naming a course,
--                                                       stored as `<index><tail>`: the index of
--                                                       the course in the learner hash's course
--                                                       dictionary (`#<course key>` -> index, `#` ->
--                                                       count; assigned on first sight)
--   {"C", key, block_ids, field, tag, raw}              per-block fact (completion record, position,
--                                                       (block_ids "": `field` is the index itself)
--                                                       bookmark): LWW on `raw` in the field `tag`
--                                                       .. the index `block_ids` maps `field` to (an
--                                                       index is assigned on first sight: HLEN / 2)
--   {"S", key, version, json, {{hkey, field, value}..}, parts_index_json}   LWW snapshot + owned fields
--                                                       (the index lists `[hkey, field]`, or `[hkey]`
--                                                       for a hash the snapshot owns whole)
--   {"Z", key, member, score, window}                   time-window sorted set member (max score)
--   {"Z", key, member, score, window, learner, course_key}  the same, the course key in `member`
--                                                       stored as its index in `learner`'s dictionary
--   {"M", key, member}                                  set member (an index; not reported, not
--                                                       announced: no reader waits on it)
-- Every hash tag whose keys a write changed gets its stamp bumped (`touch`; keys.stamp): a kept
-- answer whose reads' stamps are all unchanged is still right (read_stamps.lua, api/answer_memo.py).
-- A replayed op changes nothing and bumps nothing.
-- A value wins when `<version>\t<json>` is larger byte-wise than the stored raw value: the version
-- decides, and two different values under the same version (a reused event id) are ordered by
-- their JSON, so the result never depends on arrival order.
--
-- Redis does not roll a script back when it fails half way, so every op is checked before the
-- first write: a malformed batch is rejected whole and nothing is written.
-- No `unpack` anywhere: each op is applied with fixed-arity calls, so batch and snapshot sizes are
-- bounded only by memory (the caller also splits very large batches, see writer.py).

local prefix = ARGV[1]
local ok_ops, ops = pcall(cjson.decode, ARGV[2])
if not ok_ops or type(ops) ~= "table" then return redis.error_reply("ERR writer: ops are not a JSON array") end
local ok_ck, ckpts = pcall(cjson.decode, ARGV[3])
if not ok_ck or type(ckpts) ~= "table" then return redis.error_reply("ERR writer: checkpoints are not a JSON array") end

local function is_str(x) return type(x) == "string" end

for i, op in ipairs(ops) do
  local kind = type(op) == "table" and op[1] or nil
  local valid
  if kind == "H" then
    valid = is_str(op[2]) and is_str(op[3]) and is_str(op[4]) and is_str(op[5])
      and (op[6] == nil or (is_str(op[6]) and op[6] ~= ""))
  elseif kind == "C" then
    valid = is_str(op[2]) and is_str(op[3]) and is_str(op[4]) and is_str(op[5]) and is_str(op[6])
  elseif kind == "S" then
    valid = is_str(op[2]) and is_str(op[3]) and is_str(op[4]) and type(op[5]) == "table" and is_str(op[6])
    if valid then
      for _, part in ipairs(op[5]) do
        if type(part) ~= "table" or not (is_str(part[1]) and is_str(part[2]) and is_str(part[3])) then
          valid = false
          break
        end
      end
    end
  elseif kind == "Z" then
    valid = is_str(op[2]) and is_str(op[3]) and type(op[4]) == "number" and type(op[5]) == "number"
      and (op[6] == nil or (is_str(op[6]) and is_str(op[7]) and op[7] ~= ""
                            and string.find(op[3], op[7], 1, true) ~= nil))
  elseif kind == "M" then
    valid = is_str(op[2]) and is_str(op[3])
  end
  if not valid then
    return redis.error_reply("ERR writer: malformed op #" .. i .. " (kind " .. tostring(kind) .. ")")
  end
end
for i, c in ipairs(ckpts) do
  if type(c) ~= "table" or not is_str(c[1]) or type(c[2]) ~= "number" then
    return redis.error_reply("ERR writer: malformed checkpoint #" .. i)
  end
end

local call, byte = redis.call, string.byte  -- locals: no table lookups in the per-op loop

-- Byte-wise comparison: Lua's `<` on strings follows the server's collation locale. Equal texts
-- (a replayed value) are told at once: Lua strings are interned, so `==` compares pointers.
local function newer(a, b)
  if b == nil or b == false then return true end
  if a == b then return false end
  local la, lb = #a, #b
  local n = la < lb and la or lb
  for i = 1, n do
    local x, y = byte(a, i), byte(b, i)
    if x ~= y then return x > y end
  end
  return la > lb
end

local out = {ARGV[6] ~= nil and ARGV[6] ~= "" and call("GET", ARGV[6]) or false}
local report = ARGV[7] == "1"
local function took_effect(i, old)
  if report then
    out[#out + 1] = i
    out[#out + 1] = old
  end
end
local changed = {}
local changed_list = {}
local touched, touched_list = {}, {}
-- @include hash_tag
-- Notes the hash tag of a changed full key; its stamp (in the same slot as the key) is bumped once
-- at the end.
local function touch(full_key)
  local tag = tag_of(full_key)
  if not touched[tag] then
    touched[tag] = true
    touched_list[#touched_list + 1] = tag
  end
end
local index_of = {}  -- block dictionary lookups of this call: the same blocks recur within a batch
local course_ids = {}  -- learner course dictionary lookups of this call
-- The index of `course_key` in the course dictionary of the learner hash `learner` (full key),
-- assigned on first sight (learner_dictionary.LEARNER_COURSES).
local function course_index(learner, course_key)
  local known = course_ids[learner]
  if not known then
    known = {}
    course_ids[learner] = known
  end
  local idx = known[course_key] or call("HGET", learner, "#" .. course_key)
  if not idx then
    idx = string.format("%d", call("HINCRBY", learner, "#", 1) - 1)
    call("HSET", learner, "#" .. course_key, idx)
    touch(learner)
  end
  known[course_key] = idx
  return idx
end
local function mark(key)
  touch(prefix .. key)
  if not changed[key] then
    changed[key] = true
    changed_list[#changed_list + 1] = key
  end
end

for i, op in ipairs(ops) do
  local kind = op[1]
  if kind == "H" then
    local key = prefix .. op[2]
    local field = op[6] and (course_index(key, op[6]) .. op[3]) or op[3]
    local old = call("HGET", key, field)
    local raw = op[4] .. "\t" .. op[5]
    if newer(raw, old) then
      call("HSET", key, field, raw)
      took_effect(i, old)
      mark(op[2])
    end
  elseif kind == "C" then
    local idx
    if op[3] == "" then
      idx = op[4]  -- resolved beforehand on the dictionary's node (a cluster: assign_block_ids.lua)
    else
      local ids = prefix .. op[3]
      local known = index_of[ids]
      if not known then
        known = {}
        index_of[ids] = known
      end
      idx = known[op[4]] or call("HGET", ids, op[4])
      if not idx then
        -- Both directions in one hash: fields are never all digits (keys.block_ids), indexes are.
        idx = string.format("%d", call("HLEN", ids) / 2)
        call("HSET", ids, op[4], idx, idx, op[4])
        touch(ids)
      end
      known[op[4]] = idx
    end
    local key, field, raw = prefix .. op[2], op[5] .. idx, op[6]
    if op[5] == "" and call("HSETNX", key, field, raw) == 1 then
      -- A completion record is usually the block's first (one per block a learner touched): one
      -- call writes it; only a block seen before is read and compared.
      took_effect(i, false)
      mark(op[2])
    else
      local old = call("HGET", key, field)
      if newer(raw, old) then
        call("HSET", key, field, raw)
        took_effect(i, old)
        mark(op[2])
      end
    end
  elseif kind == "S" then
    local key = prefix .. op[2]
    local old = call("GET", key)
    local raw = op[3] .. "\t" .. op[4]
    if newer(raw, old) then
      local parts_key = prefix .. "parts:" .. op[2]  -- keys.snapshot_parts
      local old_parts = call("GET", parts_key)
      if old_parts then
        for _, part in ipairs(cjson.decode(old_parts)) do
          if part[2] == nil then  -- a hash the snapshot owns whole (ops.ReplaceSnapshot.whole)
            call("DEL", prefix .. part[1])
          else
            call("HDEL", prefix .. part[1], part[2])
          end
          mark(part[1])
        end
      end
      local parts = op[5]
      for j = 1, #parts do
        local part = parts[j]
        call("HSET", prefix .. part[1], part[2], part[3])
        mark(part[1])
      end
      if #parts > 0 then
        -- The index is JSON made by the caller (not cjson.encode, which escapes "/" differently),
        -- so Redis holds exactly the bytes the in-memory store holds.
        call("SET", parts_key, op[6])
      else
        call("DEL", parts_key)
      end
      call("SET", key, raw)
      took_effect(i, old)
      mark(op[2])
    end
  elseif kind == "M" then
    if call("SADD", prefix .. op[2], op[3]) == 1 then touch(prefix .. op[2]) end
  else -- "Z"
    local key = prefix .. op[2]
    local score, window = op[4], op[5]
    local member = op[3]
    if op[6] then
      local from, to = string.find(member, op[7], 1, true)
      member = string.sub(member, 1, from - 1) .. course_index(prefix .. op[6], op[7]) .. string.sub(member, to + 1)
    end
    local top = call("ZREVRANGE", key, 0, 0, "WITHSCORES")
    local max = top[2] and tonumber(top[2]) or nil
    if max == nil or score >= max - window then
      -- A new member is added (and reported); one already there keeps the largest score it was
      -- ever given (GT: order-independent), a raise not reported but stamped.
      local at = string.format("%.0f", score)
      if call("ZADD", key, "NX", at, member) == 1 then
        took_effect(i, false)
        mark(op[2])
      elseif call("ZADD", key, "XX", "GT", "CH", at, member) == 1 then
        touch(key)
      end
      if max == nil or score > max then
        if call("ZREMRANGEBYSCORE", key, "-inf", "(" .. string.format("%.0f", score - window)) > 0 then
          touch(key)
        end
      end
    end
  end
end

for _, tag in ipairs(touched_list) do
  call("INCR", stamp_key(prefix, tag))
end

local applied = {}
for _, c in ipairs(ckpts) do
  local field, offset = c[1], c[2]
  local cur = tonumber(call("HGET", prefix .. "ckpt:{ctl}", field) or "-1")
  if offset > cur then
    call("HSET", prefix .. "ckpt:{ctl}", field, string.format("%.0f", offset))
  end
  applied[#applied + 1] = {field, offset}
end

if ARGV[4] ~= "" and #applied > 0 then
  call("PUBLISH", ARGV[4], cjson.encode({prefix, applied}))
end
if ARGV[5] ~= "" and #changed_list > 0 then
  call("PUBLISH", ARGV[5], cjson.encode({prefix, changed_list}))
end
return out
