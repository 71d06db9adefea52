-- tokens.lua: create, touch or revoke a personal API token. Both keys carry
-- the hash tag {apitokens}, so in a Cluster they share one slot.
--
-- KEYS[1]  apitoken:{apitokens}:<id>        hash: hash, owner, name, label, created, used
-- KEYS[2]  apitokens:{apitokens}:owner:<o>  sorted set: the owner's token ids by creation time
-- ARGV[1]  the operation: create | touch | revoke
--
-- create: ARGV[2] id, ARGV[3] hash (hex), ARGV[4] owner, ARGV[5] name,
--         ARGV[6] label, ARGV[7] created (unix ns), ARGV[8] used (unix ns or 0).
--         Returns 1, or 0 when the id exists (nothing written).
-- touch:  ARGV[2] used (unix ns). Returns 1 if moved forward, 0 if already
--         at or after it, -1 if the token does not exist (nothing written).
-- revoke: ARGV[2] id, ARGV[3] owner. Returns 1, or 0 when the token does not
--         exist or has another owner (nothing written).

local op = ARGV[1]
if op == 'create' then
  if redis.call('EXISTS', KEYS[1]) == 1 then
    return 0
  end
  redis.call('HSET', KEYS[1], 'hash', ARGV[3], 'owner', ARGV[4], 'name', ARGV[5],
    'label', ARGV[6], 'created', ARGV[7], 'used', ARGV[8])
  redis.call('ZADD', KEYS[2], ARGV[7], ARGV[2])
  return 1
elseif op == 'touch' then
  local used = redis.call('HGET', KEYS[1], 'used')
  if not used then
    return -1
  end
  if tonumber(used) >= tonumber(ARGV[2]) then
    return 0
  end
  redis.call('HSET', KEYS[1], 'used', ARGV[2])
  return 1
elseif op == 'revoke' then
  local owner = redis.call('HGET', KEYS[1], 'owner')
  if not owner or owner ~= ARGV[3] then
    return 0
  end
  redis.call('DEL', KEYS[1])
  redis.call('ZREM', KEYS[2], ARGV[2])
  return 1
end
return redis.error_reply('EINVALID unknown token operation')
