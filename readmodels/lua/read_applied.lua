-- Has the projector applied a Kafka position in the serving generation? (read-your-writes waits)
-- ARGV[1] namespace  ARGV[2] checkpoint field "<topic>:<partition>"
-- Returns the next offset to apply for that topic-partition (-1 when none yet).
local gen = redis.call("GET", ARGV[1] .. ":serving:{ctl}") or "1"  -- keys.serving, keys.CHECKPOINTS
local next_offset = redis.call("HGET", ARGV[1] .. ":g" .. gen .. ":ckpt:{ctl}", ARGV[2])
return tonumber(next_offset or "-1")
