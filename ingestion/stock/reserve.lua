-- Reserve, change or release one order's stock: all lines or none, in one atomic step.
--
-- KEYS[1] the order's record (hash)         KEYS[2] the store's orders by created time (zset)
-- KEYS[3] the outbox stream of changes      KEYS[4] this minute's live counters (hash)
-- KEYS[3+2i] SKU i's position (hash)        KEYS[4+2i] SKU i's demand since its count (zset "units|order")
-- ARGV: 1 order key, 2 channel, 3 store, 4 created ms, 5 cancelled 0/1, 6 content hash, 7 allow short 0/1,
--       8 now ms, 9 lines JSON {sku: units}, 10 SKUs JSON [sku...] in KEYS order,
--       11 the version's status time in µs (the warehouse's resolution) ('' when it states none)
-- Returns {outcome, short JSON, unguarded JSON}, or {"retry"} when the order's stored lines name a SKU
-- whose keys were not passed (the caller read the record before another push changed it).

local order_id, channel, store = ARGV[1], ARGV[2], ARGV[3]
local now_ms = ARGV[8]
local skus = cjson.decode(ARGV[10])
local slot = {}
for i, sku in ipairs(skus) do slot[sku] = i end

local record = redis.call('HMGET', KEYS[1], 'state', 'hash', 'lines', 'created_ms', 'status_us')
local state, old_hash = record[1], record[2]
local status_us, held_status = ARGV[11] or '', record[5] or ''
local old_lines = {}
if record[3] then old_lines = cjson.decode(record[3]) end
for sku, _ in pairs(old_lines) do
  if not slot[sku] then return {'retry'} end
end
-- A re-push keeps the first push's creation time: it decides which count the order falls after.
local created = tonumber(record[4] or ARGV[4])

local function count(what, n)
  redis.call('HINCRBY', KEYS[4], channel .. '|' .. what, n)
  redis.call('EXPIRE', KEYS[4], 172800)
end

local function position(i)
  local v = redis.call('HMGET', KEYS[3 + 2 * i], 'count', 'counted_ms', 'moved', 'held')
  if not v[1] then return nil end
  return {count = tonumber(v[1]), counted = tonumber(v[2]), moved = tonumber(v[3] or 0), held = tonumber(v[4] or 0)}
end

local function member(units) return tostring(units) .. '|' .. order_id end

local function publish(sku, available)
  redis.call('XADD', KEYS[3], '*', 'store_id', store, 'sku_id', sku, 'available', available, 'at_ms', now_ms)
end

-- The order's state after this push goes with every reply: a push retried after a crash, which finds its
-- order `unchanged`, must still be told whether that order was taken or refused.
local function reply(outcome, short, unguarded)
  table.sort(unguarded)
  local now_state = redis.call('HGET', KEYS[1], 'state') or ''
  return {outcome, cjson.encode(short), cjson.encode(unguarded), now_state}
end

-- Move the order from holding `from` to holding `to` (both {sku: units}); `from` counts only if active.
local function apply(from, to)
  local net = 0
  for _, sku in ipairs(skus) do
    local i = slot[sku]
    local was, will = from[sku], to[sku]
    if was then redis.call('ZREM', KEYS[4 + 2 * i], member(was)) end
    local p = position(i)
    if will and (p == nil or created >= p.counted) then
      redis.call('ZADD', KEYS[4 + 2 * i], created, member(will))
    end
    if p and created >= p.counted then
      local delta = (will or 0) - (was or 0)
      if delta ~= 0 then
        local held = redis.call('HINCRBY', KEYS[3 + 2 * i], 'held', delta)
        publish(sku, p.count + p.moved - held)
        net = net + delta
      end
    end
  end
  return net
end

local function write_record(new_state, lines_json)
  redis.call('HSET', KEYS[1], 'state', new_state, 'hash', ARGV[6], 'lines', lines_json,
    'created_ms', created, 'channel', channel)
  if status_us ~= '' then redis.call('HSET', KEYS[1], 'status_us', status_us) end
  redis.call('ZADD', KEYS[2], 'NX', created, order_id)
end

-- The version now applied is at least this one: a later stale push is measured against the newest time seen.
local function note_status()
  if status_us ~= '' and (held_status == '' or tonumber(status_us) > tonumber(held_status)) then
    redis.call('HSET', KEYS[1], 'status_us', status_us)
  end
end

if state == 'released' then return reply('already_released', {}, {}) end

-- An older version arriving after a newer one (a platform's late retry): the warehouse ranks versions by the
-- channel's status time and keeps the newer one applied, so the hold must stay the newer one's too. A version
-- stating no time ranks below one that does (ingestion/order_versions.py `_VERSION_ORDER`); equal times go to
-- the later arrival, as in the warehouse.
if state and held_status ~= '' and (status_us == '' or tonumber(status_us) < tonumber(held_status)) then
  count('stale', 1)
  return reply('stale', {}, {})
end

if ARGV[5] == '1' then
  if state == 'active' then apply(old_lines, {}) end
  if state then
    redis.call('HSET', KEYS[1], 'state', 'released')
  else
    -- A cancel that overtakes the order's first push: remember it, so the late push holds nothing.
    write_record('released', '{}')
  end
  count('released', 1)
  return reply('released', {}, {})
end

-- A refused order stays refused (it was answered so, and landed cancelled): a later push of it takes nothing,
-- even if stock has come back since.
if state == 'refused' then
  redis.call('HSET', KEYS[1], 'hash', ARGV[6])
  return reply('unchanged', {}, {})
end

if state and old_hash == ARGV[6] then
  note_status()
  return reply('unchanged', {}, {})
end

local new_lines = cjson.decode(ARGV[9])
if state then
  local same = true
  for _, sku in ipairs(skus) do
    if old_lines[sku] ~= new_lines[sku] then same = false end
  end
  if same then
    redis.call('HSET', KEYS[1], 'hash', ARGV[6])
    note_status()
    return reply('unchanged', {}, {})
  end
end

local from = {}
if state == 'active' then from = old_lines end
local short, unguarded, is_short = {}, {}, false
for _, sku in ipairs(skus) do
  local p = position(slot[sku])
  if p == nil then
    if new_lines[sku] then table.insert(unguarded, sku) end
  elseif created >= p.counted then
    local delta = (new_lines[sku] or 0) - (from[sku] or 0)
    local available = p.count + p.moved - p.held
    if delta > 0 and available < delta then
      short[sku] = {delta, available}
      is_short = true
    end
  end
end

if is_short and ARGV[7] ~= '1' then
  count('refused_short', 1)
  if not state then
    count('orders', 1)
    write_record('refused', ARGV[9])
  end
  -- A refused change leaves the hold of the version already accepted as it was.
  return reply('refused_short', short, unguarded)
end

local net = apply(from, new_lines)
write_record('active', ARGV[9])
if net ~= 0 then count('units_reserved', net) end
if is_short then count('accepted_short', 1) end
if state then return reply('changed', short, unguarded) end
count('orders', 1)
if is_short then return reply('accepted_short', short, unguarded) end
return reply('reserved', short, unguarded)
