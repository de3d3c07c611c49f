// The quick start's demo tenant: an account on the entry plan, one chatbot and an owner with a
// user-level key, so the console can be tried at once. Idempotent across restarts: the ids live
// in .run/quickstart-demo.json (never the key), and each start issues the owner a fresh key and
// revokes the one printed last time, so keys do not pile up.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ROOT } from './system.mjs';

const STATE = join(ROOT, '.run', 'quickstart-demo.json');

async function call(gateway, credential, method, path, body) {
  const response = await fetch(`${gateway}${path}`, {
    method,
    headers: { authorization: `Bearer ${credential}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const answer = response.status === 204 ? null : await response.json();
  return { status: response.status, answer };
}

function readState(file) {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return null;
  }
}

/** Returns the demo tenant and a user-level key for its owner (shown on the terminal only). */
export async function provisionDemo(gateway, adminToken, stateFile = STATE) {
  const admin = (method, path, body) => call(gateway, adminToken, method, `/admin/v1${path}`, body);
  const expect = ({ status, answer }, wanted, what) => {
    if (status !== wanted) throw new Error(`quick start demo: ${what} answered ${status} ${JSON.stringify(answer)}`);
    return answer;
  };
  let state = readState(stateFile);
  let issued = state ? await admin('POST', `/users/${state.userId}/api-keys`, { name: 'Quick start owner key' }) : null;
  if (issued && issued.status === 201 && state.keyId) {
    // The previous start's key: revoked with the new one (404 when it is already gone).
    await call(gateway, issued.answer.key, 'DELETE', `/v1/api-keys/${state.keyId}`);
  }
  if (!issued || issued.status === 404) {
    // First start, or the database was reset: provision the tenant anew.
    const account = expect(await admin('POST', '/accounts', { name: 'Demo Agency', plan: 'entry' }), 201, 'creating the account');
    const chatbot = expect(await admin('POST', `/accounts/${account.id}/chatbots`, { name: 'Support bot' }), 201, 'creating the chatbot');
    const user = expect(
      await admin('POST', `/accounts/${account.id}/users`, { email: 'owner@demo-agency.test', role: 'owner' }),
      201,
      'creating the owner',
    );
    state = { accountId: account.id, chatbotId: chatbot.id, userId: user.id };
    issued = await admin('POST', `/users/${user.id}/api-keys`, { name: 'Quick start owner key' });
  }
  const key = expect(issued, 201, 'issuing the owner key');
  state = { ...state, keyId: key.id };
  mkdirSync(dirname(stateFile), { recursive: true });
  writeFileSync(stateFile, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  return { ...state, ownerKey: key.key };
}
