-- Shared by the memoised read scripts (course, sequence, program list; inlined where a script says
-- `-- @include read_stamps`): what lets the API keep a finished answer and ask Redis only whether
-- it still holds (api/answer_memo.py). Expects `p` (the serving generation's key prefix).
-- The writer bumps a stamp for every hash tag whose keys a write changed (writer.lua `touch`):
-- `<p>stamp:{<tag>}`, where <tag> is a key's hash tag as Redis Cluster takes it (keys.stamp).
-- read(command, key, ...): redis.call of a read whose reply the answer depends on; notes the key's
--   tag. The memoised scripts make every read through it (tests/unit/test_read_stamps.py).
-- unchanged(first): ARGV[first..] is {generation, tag, stamp, tag, stamp, ...} of a kept answer
--   (nothing when none): true when the serving generation and every one of those stamps are the
--   same now, so that every key the kept answer's reads touched is unchanged since.
-- stamps(): {generation, tag, stamp, ...} of every tag read so far ("" for a stamp never bumped).
-- @include hash_tag
local read_tags, read_tag_list = {}, {}

local function read(command, key, ...)
  local tag = tag_of(key)
  if not read_tags[tag] then
    read_tags[tag] = true
    read_tag_list[#read_tag_list + 1] = tag
  end
  return redis.call(command, key, ...)
end

local function unchanged(first)
  if #ARGV < first or ARGV[first] ~= gen then return false end
  for i = first + 1, #ARGV, 2 do
    if (redis.call("GET", stamp_key(p, ARGV[i])) or "") ~= ARGV[i + 1] then return false end
  end
  return true
end

local function stamps()
  local out = {gen}
  for _, tag in ipairs(read_tag_list) do
    out[#out + 1] = tag
    out[#out + 1] = redis.call("GET", stamp_key(p, tag)) or ""
  end
  return out
end
