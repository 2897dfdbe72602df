-- Switch the serving pointer from one generation to another, atomically, only when the new
-- generation has applied at least every offset the old one has (so no event is lost at handover).
-- ARGV[1] namespace   ARGV[2] expected serving generation   ARGV[3] new generation
-- Returns {1, "switched"} or {0, reason}.
local ns, from, to = ARGV[1], ARGV[2], ARGV[3]
local cur = redis.call("GET", ns .. ":serving") or "1"
if cur ~= from then
  return {0, "serving generation is " .. cur .. ", not " .. from}
end
local old = redis.call("HGETALL", ns .. ":g" .. from .. ":ckpt")
for i = 1, #old, 2 do
  local mine = tonumber(redis.call("HGET", ns .. ":g" .. to .. ":ckpt", old[i]) or "-1")
  if mine < tonumber(old[i + 1]) then
    return {0, "behind on " .. old[i]}
  end
end
redis.call("SET", ns .. ":serving", to)
redis.call("SADD", ns .. ":gens", to)
redis.call("PUBLISH", ns .. ":generation", to)
return {1, "switched"}
