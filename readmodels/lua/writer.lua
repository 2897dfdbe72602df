-- Apply a batch of projection operations and the consumer checkpoints atomically.
-- KEYS: none (keys derive from the generation prefix; single-node Redis)
-- ARGV[1] prefix "<ns>:g<gen>:"   ARGV[2] ops JSON   ARGV[3] checkpoints JSON [[field, offset], ...]
-- ARGV[4] channel for applied checkpoints ("" = none)   ARGV[5] channel for changed keys ("" = none)
-- Returns a flat array: for every op that took effect, its 1-based index and the previous raw
-- value (false when none), so the caller can tell real changes and build change records.

local prefix = ARGV[1]
local ops = cjson.decode(ARGV[2])
local ckpts = cjson.decode(ARGV[3])

-- Byte-wise comparison: Lua's `<` on strings follows the server's collation locale.
local function newer(a, b)
  if b == nil or b == false then return true end
  local la, lb = #a, #b
  local n = la < lb and la or lb
  for i = 1, n do
    local x, y = string.byte(a, i), string.byte(b, i)
    if x ~= y then return x > y end
  end
  return la > lb
end

local function version_of(raw)
  if not raw then return nil end
  local tab = string.find(raw, "\t", 1, true)
  if not tab then return raw end
  return string.sub(raw, 1, tab - 1)
end

local out = {}
local changed = {}
local changed_list = {}
local function mark(key)
  if not changed[key] then
    changed[key] = true
    changed_list[#changed_list + 1] = key
  end
end

for i, op in ipairs(ops) do
  local kind = op[1]
  if kind == "H" then
    local key = prefix .. op[2]
    local old = redis.call("HGET", key, op[3])
    if newer(op[4], version_of(old)) then
      redis.call("HSET", key, op[3], op[4] .. "\t" .. op[5])
      out[#out + 1] = i
      out[#out + 1] = old
      mark(op[2])
    end
  elseif kind == "S" then
    local key = prefix .. op[2]
    local old = redis.call("GET", key)
    if newer(op[3], version_of(old)) then
      local parts_key = key .. ":parts"
      local old_parts = redis.call("GET", parts_key)
      if old_parts then
        for _, part in ipairs(cjson.decode(old_parts)) do
          redis.call("HDEL", prefix .. part[1], part[2])
          mark(part[1])
        end
      end
      local owned = {}
      for j, part in ipairs(op[5]) do
        redis.call("HSET", prefix .. part[1], part[2], part[3])
        owned[j] = {part[1], part[2]}
        mark(part[1])
      end
      if #owned > 0 then
        redis.call("SET", parts_key, cjson.encode(owned))
      else
        redis.call("DEL", parts_key)
      end
      redis.call("SET", key, op[3] .. "\t" .. op[4])
      out[#out + 1] = i
      out[#out + 1] = old
      mark(op[2])
    end
  elseif kind == "Z" then
    local key = prefix .. op[2]
    local score, window = tonumber(op[4]), tonumber(op[5])
    local top = redis.call("ZREVRANGE", key, 0, 0, "WITHSCORES")
    local max = top[2] and tonumber(top[2]) or nil
    if max == nil or score >= max - window then
      local added = redis.call("ZADD", key, score, op[3])
      if max == nil or score > max then
        redis.call("ZREMRANGEBYSCORE", key, "-inf", "(" .. string.format("%.0f", score - window))
      end
      if added == 1 then
        out[#out + 1] = i
        out[#out + 1] = false
        mark(op[2])
      end
    end
  else
    return redis.error_reply("unknown op kind " .. tostring(kind))
  end
end

local applied = {}
for _, c in ipairs(ckpts) do
  local field, offset = c[1], tonumber(c[2])
  local cur = tonumber(redis.call("HGET", prefix .. "ckpt", field) or "-1")
  if offset > cur then
    redis.call("HSET", prefix .. "ckpt", field, string.format("%.0f", offset))
  end
  applied[#applied + 1] = {field, offset}
end

if ARGV[4] ~= "" and #applied > 0 then
  redis.call("PUBLISH", ARGV[4], cjson.encode({prefix, applied}))
end
if ARGV[5] ~= "" and #changed_list > 0 then
  redis.call("PUBLISH", ARGV[5], cjson.encode({prefix, changed_list}))
end
return out
