import { BASELINE_COUNT_CAPS, MAX_FEEDBACK } from "../../core/index.js";

// core/baseline-merge.ts's `mergeBaseline` as a Redis script, so that a batch's delta is
// merged into whatever another processor stored meanwhile, atomically, in one slot:
//   KEYS[1]  the baseline (JSON)
//   KEYS[2]  its meta hash: `p:<topic>:<partition>` → the last offset of that log whose
//            delta is merged (a delta at or below it is not merged again: a cluster journal
//            rolled forward, a batch re-run after a crash); `lastSeenMs`; `fb:<key>` → the
//            instant of that feedback entry (the script compares instants, not RFC 3339 text)
//   ARGV     delta JSON, mark field ('' for none), offset, TTL seconds
// Returns 1 when merged, 0 when the mark said it already was. A baseline stored before the
// meta hash existed has no `lastSeenMs`: its first merge takes the delta's last-seen time.
// test/integration/baseline-merge.test.ts holds the script equal to the reference.

const caps = Object.entries(BASELINE_COUNT_CAPS)
  .map(([name, cap]) => `{'${name}', ${cap}}`)
  .join(", ");

export const MERGE_BASELINE = `
local meta = KEYS[2]
if ARGV[2] ~= '' then
  local seen = redis.call('HGET', meta, ARGV[2])
  if seen and tonumber(seen) >= tonumber(ARGV[3]) then return 0 end
end
local d = cjson.decode(ARGV[1])
local raw = redis.call('GET', KEYS[1])
local b
if raw then
  b = cjson.decode(raw)
else
  b = { sessions = 0, actions = 0, capabilities = {}, transitions = {}, destinations = {}, ips = {}, geos = {}, hours = {}, peakPerMinute = 0 }
  for i = 1, 24 do b.hours[i] = 0 end
end
b.sessions = (b.sessions or 0) + d.sessions
b.actions = (b.actions or 0) + d.actions
for _, spec in ipairs({ ${caps} }) do
  local name, cap = spec[1], spec[2]
  local add = d.counts[name]
  if add then
    local map = b[name]
    if type(map) ~= 'table' then map = {}; b[name] = map end
    local size = 0
    for _ in pairs(map) do size = size + 1 end
    for _, p in ipairs(add) do
      local key, n = p[1], p[2]
      if key ~= '__proto__' then
        if map[key] ~= nil then map[key] = map[key] + n
        elseif size < cap then map[key] = n; size = size + 1 end
      end
    end
  end
end
if d.hours then
  for i = 1, 24 do b.hours[i] = (b.hours[i] or 0) + (d.hours[i] or 0) end
end
if d.peakPerMinute and d.peakPerMinute > (b.peakPerMinute or 0) then b.peakPerMinute = d.peakPerMinute end
if d.peakHarmful and d.peakHarmful > (b.peakHarmful or 0) then b.peakHarmful = d.peakHarmful end
if d.lastSeen then
  local was = tonumber(redis.call('HGET', meta, 'lastSeenMs') or '')
  if was == nil or d.lastSeen.ms > was then
    b.lastSeen = d.lastSeen.time
    redis.call('HSET', meta, 'lastSeenMs', tostring(d.lastSeen.ms))
  end
end
if d.feedback then
  if type(b.feedback) ~= 'table' then b.feedback = {} end
  for _, f in ipairs(d.feedback) do
    local key, entry, ms = f[1], f[2], f[3]
    local was = tonumber(redis.call('HGET', meta, 'fb:' .. key) or '')
    if b.feedback[key] == nil or was == nil or ms >= was then
      b.feedback[key] = entry
      redis.call('HSET', meta, 'fb:' .. key, tostring(ms))
    end
  end
  local keys = {}
  for key in pairs(b.feedback) do
    keys[#keys + 1] = { key, tonumber(redis.call('HGET', meta, 'fb:' .. key) or '') or -math.huge }
  end
  if #keys > ${MAX_FEEDBACK} then
    table.sort(keys, function(x, y) if x[2] ~= y[2] then return x[2] < y[2] end return x[1] < y[1] end)
    for i = 1, #keys - ${MAX_FEEDBACK} do
      b.feedback[keys[i][1]] = nil
      redis.call('HDEL', meta, 'fb:' .. keys[i][1])
    end
  end
end
redis.call('SET', KEYS[1], cjson.encode(b), 'EX', tonumber(ARGV[4]))
if ARGV[2] ~= '' then redis.call('HSET', meta, ARGV[2], ARGV[3]) end
redis.call('EXPIRE', meta, tonumber(ARGV[4]))
return 1`;
