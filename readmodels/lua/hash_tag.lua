-- Shared by writer.lua and read_stamps.lua (inlined where a script says `-- @include hash_tag`).
-- tag_of(key): the hash tag of a full key as Redis Cluster takes it (keys.hash_tag): the text
-- between its first `{` and the next `}` when that is not empty, else the whole key.
-- stamp_key(prefix, tag): the full key of a tag's stamp (keys.stamp).
local function tag_of(key)
  local open = string.find(key, "{", 1, true)
  if open then
    local close = string.find(key, "}", open + 1, true)
    if close and close > open + 1 then return string.sub(key, open + 1, close - 1) end
  end
  return key
end

local function stamp_key(prefix, tag)
  return prefix .. "stamp:{" .. tag .. "}"
end
