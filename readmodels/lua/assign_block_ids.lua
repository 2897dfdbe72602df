#!lua flags=allow-cross-slot-keys
-- The block dictionary indexes of completion fields, assigned on first sight as writer.lua does
-- (HLEN / 2; both directions in one hash), for a Redis Cluster: there a learner's completions and
-- the course's dictionary live on different nodes, so the writer resolves the indexes first, on
-- the dictionaries' node (one call per node; the keys may span several slots of it).
-- ARGV[1] JSON [[dictionary key, field], ...]   Returns the indexes in the same order.
local pairs_ = cjson.decode(ARGV[1])
local out = {}
for i, pair in ipairs(pairs_) do
  local ids, field = pair[1], pair[2]
  local idx = redis.call("HGET", ids, field)
  if not idx then
    idx = string.format("%d", redis.call("HLEN", ids) / 2)
    redis.call("HSET", ids, field, idx, idx, field)
  end
  out[i] = idx
end
return out
