-- Shared by the read scripts that count program progress (inlined where a script says
-- `-- @include certificate_courses`). Expects `p` (the serving generation's key prefix).
-- certificate_courses(h): for a learner hash (flat), the published course and its catalog info of
-- every course in which the learner holds a passing certificate (status `downloadable` or
-- `generating`, readmodels/views/certificates.py), flat: {course key, course snapshot or false,
-- catalog info or false, ...}. Counting waits for those courses' certificate dates at read time.
local function certificate_courses(h)
  local out = {}
  for i = 1, #h, 2 do
    if string.sub(h[i], 1, 5) == "cert:" then
      local raw = h[i + 1]
      local tab = string.find(raw, "\t", 1, true)
      local ok, cert = pcall(cjson.decode, string.sub(raw, (tab or 0) + 1))
      if ok and type(cert) == "table" and (cert["status"] == "downloadable" or cert["status"] == "generating") then
        local ck = string.sub(h[i], 6)
        out[#out + 1] = ck
        out[#out + 1] = read("GET", p .. "course:{" .. ck .. "}") or false
        out[#out + 1] = read("HGET", p .. "ccat:{" .. ck .. "}", "info") or false
      end
    end
  end
  return out
end
