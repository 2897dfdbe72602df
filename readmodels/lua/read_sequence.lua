-- Everything the sequence-metadata route needs, in one round trip, from the serving generation.
-- ARGV[1] namespace  ARGV[2] course key  ARGV[3] usage key  ARGV[4] caller id ("" = anonymous)
-- ARGV[5] masquerade username ("" = none)
-- Returns {generation, course snapshot or false, block entry (cblk) or false, sequence doc or false,
--          user hash (flat), completions (flat: completion field, "\t<json>"), caller roles (flat),
--          effective user id, unknown (0/1), catalog info or false}
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
  -- Stored: block index (in bid:<ck>) -> compact record (readmodels/compact.py): 8 digits of
  -- modified, a difference marker (64 +- k) and its k digits, 5 digits of ce_id, then the
  -- completion's JSON (empty for 1.0). Returned as completion field -> "\t<json>".
  -- Indexes are read back with HMGET in chunks (bounded `unpack`).
  local ids, names = p .. "bid:" .. ck, {}
  for first = 1, #done, 1000 do
    local chunk = {}
    for i = first, math.min(first + 999, #done), 2 do chunk[#chunk + 1] = done[i] end
    local got = redis.call("HMGET", ids, unpack(chunk))
    for j = 1, #got do names[#names + 1] = got[j] end
  end
  for i = 1, #done, 2 do
    local name = names[(i + 1) / 2]
    local v = done[i + 1]
    local k = string.byte(v, 9) - 64
    if k < 0 then k = -k end
    local json = string.sub(v, 15 + k)
    done[i] = name or ""
    done[i + 1] = "\t" .. (json == "" and "1.0" or json)
  end
end
-- Staff never see content hidden after its due date: the caller's roles always matter here.
local croles = (uid == caller and seq) and roles(caller, user) or roles(caller)
return {gen, course, blk or false, seq or false, user, done, croles, uid, unknown, cat or false}
