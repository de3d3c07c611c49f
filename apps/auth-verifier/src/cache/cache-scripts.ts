/**
 * The verifier cache's Lua scripts. Every name a script touches is one of its KEYS, all in one
 * shard (one hash tag, so one slot on a Redis Cluster); only `cjson` decodes here, validation
 * stays in TypeScript. A script that is given a generation (ARGV[1]) first compares it with the
 * shard's generation entry (KEYS[1]) and, when it has moved on, touches nothing else and
 * answers the current one.
 */

/**
 * Plans are fields of a hash (the account is known only inside the script, so its entry cannot be
 * a name of its own); a field holds `<expires at, ms since the epoch>:<value>`, compared with the
 * caller's clock (ARGV `now`): asking Redis' clock costs a command per read, and replicas' clocks
 * agree far closer than a TTL.
 */
const PLAN_FIELD_LUA = `
local function livePlan(plans, accountId, now)
  local stored = redis.call('HGET', plans, accountId)
  if not stored then return false end
  local colon = string.find(stored, ':', 1, true)
  local expiresAt = colon and tonumber(string.sub(stored, 1, colon - 1))
  if not expiresAt or expiresAt <= now then return false end
  return string.sub(stored, colon + 1)
end
`;

/**
 * KEYS: generation, key entry, plan hash, then the chatbot entry if one was asked for; ARGV: the
 * generation the names are in, now (ms). Returns the generation, the raw key entry, the account id
 * whose plan was read, that plan and the chatbot entry (nil where not read), or the generation alone.
 */
export const READ_VERIFY_ENTRIES_LUA = `${PLAN_FIELD_LUA}
local gen = redis.call('GET', KEYS[1]) or '0'
if gen ~= ARGV[1] then return {gen} end
local key = redis.call('GET', KEYS[2])
local accountId, plan = false, false
if key and string.sub(key, 1, 1) == '{' then
  local ok, record = pcall(cjson.decode, key)
  if ok and type(record) == 'table' and record.type == 'chatbot' and type(record.accountId) == 'string' then
    accountId = record.accountId
    plan = livePlan(KEYS[3], accountId, tonumber(ARGV[2]))
  end
end
local chatbot = false
if KEYS[4] then chatbot = redis.call('GET', KEYS[4]) end
return {gen, key, accountId, plan, chatbot}
`;

/** KEYS: generation, entry; ARGV: generation, then now (ms) and the plan's account id for the plan hash. Returns {generation, value}. */
export const READ_ENTRY_LUA = `${PLAN_FIELD_LUA}
local gen = redis.call('GET', KEYS[1]) or '0'
if gen ~= ARGV[1] then return {gen} end
if ARGV[3] then return {gen, livePlan(KEYS[2], ARGV[3], tonumber(ARGV[2]))} end
return {gen, redis.call('GET', KEYS[2])}
`;

/**
 * Writes a plan field for `ttl` ms, keeps the hash alive at least as long, and drops a few
 * expired fields picked at random, so that accounts no longer asked about do not pile up.
 */
const SET_PLAN_LUA = `
local function setPlan(plans, accountId, value, ttl, now)
  redis.call('HSET', plans, accountId, string.format('%.0f', now + tonumber(ttl)) .. ':' .. value)
  if redis.call('PTTL', plans) < tonumber(ttl) then redis.call('PEXPIRE', plans, ttl) end
  local sample = redis.call('HRANDFIELD', plans, 4, 'WITHVALUES')
  for i = 1, #sample, 2 do
    local expiresAt = string.match(sample[i + 1], '^(%d+):')
    if not expiresAt or tonumber(expiresAt) <= now then redis.call('HDEL', plans, sample[i]) end
  end
end
`;

/** A lookup answer for a plan: KEYS[1] the plan hash; ARGV: account id, value, TTL in ms, now (ms). */
export const WRITE_PLAN_LUA = `${SET_PLAN_LUA}
setPlan(KEYS[1], ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4]))
return 1
`;

/**
 * KEYS: generation, entry; ARGV: generation, now (ms), the plan's account id or '', then a value
 * and a TTL in ms (a SET) or nothing (a DEL). Returns {generation, 1 when written or 0}.
 */
export const INVALIDATE_LUA = `${SET_PLAN_LUA}
local gen = redis.call('GET', KEYS[1]) or '0'
if gen ~= ARGV[1] then return {gen, 0} end
if ARGV[3] ~= '' then
  if ARGV[4] then setPlan(KEYS[2], ARGV[3], ARGV[4], ARGV[5], tonumber(ARGV[2])) else redis.call('HDEL', KEYS[2], ARGV[3]) end
elseif ARGV[4] then
  redis.call('SET', KEYS[2], ARGV[4], 'PX', ARGV[5])
else
  redis.call('DEL', KEYS[2])
end
return {gen, 1}
`;
