-- Record one goods movement (receipt, transfer, write-off) once, by its id.
--
-- KEYS: 1 the SKU's position (hash), 2 its goods movements (zset "quantity|movement" by moved ms),
--       3 the store's movement ids (hash), 4 the outbox stream of changes
-- ARGV: 1 store, 2 SKU, 3 movement id, 4 quantity change, 5 moved ms, 6 now ms
-- Returns 1 when recorded, 0 when already seen or older than the SKU's count (which already has it).

if redis.call('HEXISTS', KEYS[3], ARGV[3]) == 1 then return 0 end
local moved_ms = tonumber(ARGV[5])
local p = redis.call('HMGET', KEYS[1], 'count', 'counted_ms', 'moved', 'held')
if p[2] and moved_ms < tonumber(p[2]) then return 0 end

redis.call('HSET', KEYS[3], ARGV[3], moved_ms)
-- Kept even without a count: a count dated before this movement will add it.
redis.call('ZADD', KEYS[2], moved_ms, ARGV[4] .. '|' .. ARGV[3])
if p[1] then
  local moved = redis.call('HINCRBY', KEYS[1], 'moved', tonumber(ARGV[4]))
  local available = tonumber(p[1]) + moved - tonumber(p[4] or 0)
  redis.call('XADD', KEYS[4], '*', 'store_id', ARGV[1], 'sku_id', ARGV[2], 'available', available,
    'at_ms', ARGV[6])
end
return 1
