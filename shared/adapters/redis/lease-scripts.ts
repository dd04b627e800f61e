/**
 * The Lua behind the Redis LeaseStore. Each script runs atomically on the server and reads the
 * server's clock (TIME), so clock skew between orchestrator hosts cannot shorten or stretch a lease.
 *
 * Layout under a prefix P: `P lease:<key>` hash {holder, token, expiresAt}; `P fence:<key>` the last
 * token handed out (never deleted); `P holder:<holder>` set of the holder's keys; `P expiries` a
 * sorted set of key → expiresAt. Numbers travel as '%.0f' strings: Lua's tostring would print
 * 1.7956e+15 for a token.
 */
const prelude = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local function str(n) return string.format('%.0f', n) end
local function extend(leaseKey, expiriesKey, holderKey, name, ttl, retain)
  local expiresAt = now + ttl
  redis.call('HSET', leaseKey, 'expiresAt', str(expiresAt))
  redis.call('PEXPIRE', leaseKey, ttl + retain)
  redis.call('ZADD', expiriesKey, str(expiresAt), name)
  redis.call('SADD', holderKey, name)
  if redis.call('PTTL', holderKey) < ttl + retain then redis.call('PEXPIRE', holderKey, ttl + retain) end
  return expiresAt
end
`;

/**
 * KEYS: lease, fence, expiries. ARGV: name, holder, ttlMs, retainMs, holderPrefix.
 * Returns {token, expiresAt} or nil. A new token is max(last + 1, serverTimeMs × 1000): strictly
 * increasing while Redis lives, and still above every earlier token after Redis lost its memory.
 */
export const acquireScript = `${prelude}
local ttl, retain = tonumber(ARGV[3]), tonumber(ARGV[4])
local cur = redis.call('HMGET', KEYS[1], 'holder', 'token', 'expiresAt')
local token
if cur[1] and tonumber(cur[3]) > now then
  if cur[1] ~= ARGV[2] then return false end
  token = cur[2]
else
  if cur[1] then redis.call('SREM', ARGV[5] .. cur[1], ARGV[1]) end
  local last = tonumber(redis.call('GET', KEYS[2]) or '0')
  token = str(math.max(last + 1, now * 1000))
  redis.call('SET', KEYS[2], token)
  redis.call('HSET', KEYS[1], 'holder', ARGV[2], 'token', token)
end
local expiresAt = extend(KEYS[1], KEYS[3], ARGV[5] .. ARGV[2], ARGV[1], ttl, retain)
return {token, str(expiresAt)}
`;

/** KEYS: lease, expiries. ARGV: name, token, ttlMs, retainMs, holderPrefix. Returns 1 or 0. */
export const renewScript = `${prelude}
local cur = redis.call('HMGET', KEYS[1], 'holder', 'token', 'expiresAt')
if not cur[1] or tonumber(cur[2]) ~= tonumber(ARGV[2]) or tonumber(cur[3]) <= now then return 0 end
extend(KEYS[1], KEYS[2], ARGV[5] .. cur[1], ARGV[1], tonumber(ARGV[3]), tonumber(ARGV[4]))
return 1
`;

/**
 * KEYS: lease, fence, expiries. ARGV: name, holder, token, ttlMs, retainMs, holderPrefix. Returns 1
 * or 0. Only a key with no lease hash and no fence at or above the token: a Redis that lost its memory.
 */
export const reclaimScript = `${prelude}
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
if tonumber(redis.call('GET', KEYS[2]) or '0') >= tonumber(ARGV[3]) then return 0 end
redis.call('SET', KEYS[2], ARGV[3])
redis.call('HSET', KEYS[1], 'holder', ARGV[2], 'token', ARGV[3])
extend(KEYS[1], KEYS[3], ARGV[6] .. ARGV[2], ARGV[1], tonumber(ARGV[4]), tonumber(ARGV[5]))
return 1
`;

/**
 * KEYS: holder set, expiries. ARGV: holder, ttlMs, retainMs, leasePrefix. Returns the number
 * renewed; keys the holder no longer holds are dropped from its set on the way.
 */
export const renewHolderScript = `${prelude}
local ttl, retain = tonumber(ARGV[2]), tonumber(ARGV[3])
local renewed = 0
for _, name in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local leaseKey = ARGV[4] .. name
  local cur = redis.call('HMGET', leaseKey, 'holder', 'expiresAt')
  if cur[1] ~= ARGV[1] then
    redis.call('SREM', KEYS[1], name)
  elseif tonumber(cur[2]) > now then
    extend(leaseKey, KEYS[2], KEYS[1], name, ttl, retain)
    renewed = renewed + 1
  end
end
return renewed
`;

/** KEYS: lease, expiries. ARGV: name, token, holderPrefix. Returns 1 or 0. */
export const releaseScript = `
local cur = redis.call('HMGET', KEYS[1], 'holder', 'token')
if not cur[1] or tonumber(cur[2]) ~= tonumber(ARGV[2]) then return 0 end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('SREM', ARGV[3] .. cur[1], ARGV[1])
return 1
`;

/**
 * KEYS: expiries. ARGV: callerNow, limit, leasePrefix. Returns a flat list of
 * name, holder, token, expiresAt. A lease counts as expired only when both the caller's clock and
 * the server's say so. Index entries whose hash is gone (retention elapsed) are removed.
 */
export const listExpiredScript = `${prelude}
local cutoff = str(math.min(tonumber(ARGV[1]), now))
local limit = tonumber(ARGV[2])
local out, orphans, offset = {}, {}, 0
while #out < limit * 4 do
  local batch = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', cutoff, 'LIMIT', offset, limit)
  for _, name in ipairs(batch) do
    local cur = redis.call('HMGET', ARGV[3] .. name, 'holder', 'token', 'expiresAt')
    if not cur[1] then
      table.insert(orphans, name)
    elseif #out < limit * 4 then
      table.insert(out, name); table.insert(out, cur[1]); table.insert(out, cur[2]); table.insert(out, cur[3])
    end
  end
  if #batch < limit then break end
  offset = offset + #batch
end
for _, name in ipairs(orphans) do redis.call('ZREM', KEYS[1], name) end
return out
`;
