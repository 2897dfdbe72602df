-- Switch the serving pointer from one generation to another, atomically, only when the new
-- generation has applied at least every offset the old one has (so no event is lost at handover).
-- KEYS[1] serving pointer  KEYS[2] generations set  KEYS[3] old checkpoints  KEYS[4] new checkpoints
-- (all under the control hash tag, keys.py: one slot on a cluster)
-- ARGV[1] generation channel   ARGV[2] expected serving generation   ARGV[3] new generation
-- Returns {1, "switched"} or {0, reason}.
local from, to = ARGV[2], ARGV[3]
local cur = redis.call("GET", KEYS[1]) or "1"
if cur ~= from then
  return {0, "serving generation is " .. cur .. ", not " .. from}
end
local old = redis.call("HGETALL", KEYS[3])
for i = 1, #old, 2 do
  local mine = tonumber(redis.call("HGET", KEYS[4], old[i]) or "-1")
  if mine < tonumber(old[i + 1]) then
    return {0, "behind on " .. old[i]}
  end
end
redis.call("SET", KEYS[1], to)
redis.call("SADD", KEYS[2], to)
redis.call("PUBLISH", ARGV[1], to)
return {1, "switched"}
