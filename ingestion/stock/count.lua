-- Re-base one store/SKU on a WMS count: available = count + goods moved since − units of orders since.
--
-- KEYS: 1 the SKU's position (hash), 2 its demand since the count (zset "units|order" by created ms),
--       3 its goods movements (zset "quantity|movement" by moved ms), 4 the store's movement ids (hash),
--       5 the store's counted SKUs (zset by count ms), 6 the store's orders by created ms (zset),
--       7 the outbox stream of changes
-- ARGV: 1 store, 2 SKU, 3 on hand, 4 counted ms, 5 now ms, 6 key prefix of the store's order records
-- Returns 1 when the count became the SKU's current one, 0 when a count as new or newer was already there.

local counted = tonumber(ARGV[4])
local before = redis.call('HMGET', KEYS[1], 'count', 'counted_ms', 'moved', 'held')
if before[2] and tonumber(before[2]) >= counted then return 0 end

local function leading_number(m) return tonumber(string.match(m, '^(%-?%d+)|')) end

-- Orders and goods from before the count are already in it: they never count for this SKU again.
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. counted)
local held = 0
for _, m in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do held = held + leading_number(m) end

for _, m in ipairs(redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', '(' .. counted)) do
  redis.call('HDEL', KEYS[4], string.match(m, '^%-?%d+|(.*)$'))
end
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', '(' .. counted)
local moved = 0
for _, m in ipairs(redis.call('ZRANGE', KEYS[3], 0, -1)) do moved = moved + leading_number(m) end

local on_hand = tonumber(ARGV[3])
redis.call('HSET', KEYS[1], 'count', on_hand, 'counted_ms', counted, 'moved', moved, 'held', held)
redis.call('ZADD', KEYS[5], counted, ARGV[2])

local available = on_hand + moved - held
local was = nil
if before[1] then was = tonumber(before[1]) + tonumber(before[3] or 0) - tonumber(before[4] or 0) end
if was ~= available then
  redis.call('XADD', KEYS[7], '*', 'store_id', ARGV[1], 'sku_id', ARGV[2], 'available', available,
    'at_ms', ARGV[5])
end

-- Order records older than every count of the store can no longer hold anything: drop them (bounded per
-- call so one count never stalls the server; the next count continues).
local oldest = redis.call('ZRANGE', KEYS[5], 0, 0, 'WITHSCORES')
local stale = redis.call('ZRANGEBYSCORE', KEYS[6], '-inf', '(' .. oldest[2], 'LIMIT', 0, 500)
for _, order_id in ipairs(stale) do
  redis.call('DEL', ARGV[6] .. order_id)
  redis.call('ZREM', KEYS[6], order_id)
end
return 1
