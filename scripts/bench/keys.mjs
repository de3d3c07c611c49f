// Chatbots and chatbot keys in bulk through key-management's own bus API, the way the gateway
// asks for them: the key is made here, only its hash and prefix cross the bus.
import { load } from './system.mjs';

const { NatsBus, createLogger } = await load('libs/common/src/index.js');
const { generateApiKey, hashApiKey, displayPrefix } = await load('libs/contracts/src/index.js');

export async function connectBus(system, name = 'bench') {
  return NatsBus.connect({
    url: system.namespace.natsUrl,
    subjectPrefix: system.namespace.subjectPrefix,
    name,
    logger: createLogger(name, 'warn'),
  });
}

/** Runs `task(i)` for i < count with at most `concurrency` at once; results in order. */
export async function inParallel(count, concurrency, task) {
  const results = new Array(count);
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      results[i] = await task(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return results;
}

/**
 * `count` chatbot keys, ten per new chatbot of the tenant's account (the contract's limit):
 * [{ key, keyId, keyHash, chatbotId }]. The plaintext stays in this process. `fields(i)` adds
 * lifecycle fields (expiresAt, allowedIps) to key i.
 */
export async function createChatbotKeys(bus, tenant, count, { concurrency = 32, perChatbot = 10, fields = () => ({}) } = {}) {
  const chatbotCount = Math.ceil(count / perChatbot);
  const chatbots = await inParallel(chatbotCount, concurrency, (i) =>
    bus.request('adminCreateChatbot', { accountId: tenant.account.id, name: `bulk bot ${i}` }, 10_000),
  );
  return inParallel(count, concurrency, async (i) => {
    const key = generateApiKey('chatbot');
    const chatbotId = chatbots[Math.floor(i / perChatbot)].id;
    const keyHash = hashApiKey(key);
    const created = await bus.request(
      'createKey',
      { actor: { userId: tenant.owner.id }, chatbotId, name: `bulk ${i}`, keyHash, prefix: displayPrefix(key), ...fields(i) },
      10_000,
    );
    return { key, keyId: created.id, keyHash, chatbotId };
  });
}

/**
 * `count` chatbot keys written straight into key-management's tables in batches, exactly the rows
 * its createKey stores (hash and prefix only; ten per chatbot). For the 100,000-key scenario only:
 * one key at a time over the bus (createChatbotKeys, measured there) would take most of the run.
 */
export async function insertChatbotKeys(databaseUrl, tenant, count, { perChatbot = 10, batch = 10_000 } = {}) {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  const keys = [];
  try {
    for (let start = 0; start < count; start += batch) {
      const size = Math.min(batch, count - start);
      const chatbots = await client.query(
        `INSERT INTO chatbots (account_id, name) SELECT $1, 'bulk bot ' || g FROM generate_series(1, $2) g RETURNING id`,
        [tenant.account.id, Math.ceil(size / perChatbot)],
      );
      const rows = Array.from({ length: size }, (_, i) => {
        const key = generateApiKey('chatbot');
        return { key, keyHash: hashApiKey(key), prefix: displayPrefix(key), chatbotId: chatbots.rows[Math.floor(i / perChatbot)].id };
      });
      const inserted = await client.query(
        `INSERT INTO api_keys (account_id, chatbot_id, type, created_by, name, prefix, key_hash)
         SELECT $1, c, 'chatbot', $2, 'bulk', p, h FROM unnest($3::uuid[], $4::text[], $5::text[]) AS t(c, p, h)
         RETURNING id, key_hash`,
        [tenant.account.id, tenant.owner.id, rows.map((r) => r.chatbotId), rows.map((r) => r.prefix), rows.map((r) => r.keyHash)],
      );
      const idByHash = new Map(inserted.rows.map((row) => [row.key_hash, row.id]));
      for (const row of rows) keys.push({ key: row.key, keyId: idByHash.get(row.keyHash), keyHash: row.keyHash, chatbotId: row.chatbotId });
    }
  } finally {
    await client.end();
  }
  return keys;
}
