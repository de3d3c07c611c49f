import { generateKeyPairSync, sign } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, jest } from '@jest/globals';
import { parseLeakReport, signatureVerifies } from './leak-report.js';
import { ScanningPublicKeys } from './scanning-public-keys.js';

function keyPair() {
  const pair = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  return { privateKey: pair.privateKey, pem: pair.publicKey.export({ type: 'spki', format: 'pem' }).toString() };
}

function keysFile(entries: { id: string; pem: string }[]): string {
  const file = join(mkdtempSync(join(tmpdir(), 'scanning-keys-')), 'keys.json');
  writeKeys(file, entries);
  return file;
}

function writeKeys(file: string, entries: { id: string; pem: string }[]): void {
  writeFileSync(file, JSON.stringify({ public_keys: entries.map(({ id, pem }) => ({ key_identifier: id, key: pem, is_current: true })) }));
}

describe(ScanningPublicKeys.name, () => {
  it('reloads for an unknown identifier (a rotation), but at most once per cooldown', async () => {
    const first = keyPair();
    const second = keyPair();
    const file = keysFile([{ id: 'k1', pem: first.pem }]);
    let now = 1_000_000;
    const sut = new ScanningPublicKeys(
      { file },
      60_000,
      () => undefined,
      () => now,
    );

    expect(await sut.find('k1')).not.toBeNull();
    writeKeys(file, [
      { id: 'k1', pem: first.pem },
      { id: 'k2', pem: second.pem },
    ]);
    now += 59_999;
    expect(await sut.find('k2')).toBeNull();
    now += 1;
    expect(await sut.find('k2')).not.toBeNull();
    expect(await sut.find('k1')).not.toBeNull();
  });

  it('keeps the keys it had when the source breaks, and says why', async () => {
    const first = keyPair();
    const file = keysFile([{ id: 'k1', pem: first.pem }]);
    let now = 0;
    const failures = jest.fn();
    const sut = new ScanningPublicKeys({ file }, 1_000, failures, () => now);
    expect(await sut.find('k1')).not.toBeNull();

    writeFileSync(file, '{"public_keys": "not a list"}');
    now += 1_000;
    expect(await sut.find('unknown')).toBeNull();
    expect(failures).toHaveBeenCalledTimes(1);
    expect(await sut.find('k1')).not.toBeNull();
    expect(sut.available).toBe(true);
  });

  it('refuses a key that is not ECDSA P-256', async () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const failures = jest.fn();
    const sut = new ScanningPublicKeys({ file: keysFile([{ id: 'rsa', pem: rsa }]) }, 1_000, failures);
    expect(await sut.find('rsa')).toBeNull();
    expect(String(failures.mock.calls[0][0])).toMatch(/not an ECDSA P-256/);
    expect(sut.available).toBe(false);
  });

  it('loads once for concurrent lookups', async () => {
    const first = keyPair();
    const sut = new ScanningPublicKeys({ file: keysFile([{ id: 'k1', pem: first.pem }]) }, 60_000, () => undefined);
    const found = await Promise.all([sut.find('k1'), sut.find('k1'), sut.find('nope')]);
    expect(found.map(Boolean)).toEqual([true, true, false]);
  });
});

describe('leak report signatures and bodies', () => {
  const { privateKey, pem } = keyPair();
  const body = Buffer.from('[{"token":"cbk_x","type":"t","url":"u","source":"s"}]');
  const signature = sign('sha256', body, privateKey).toString('base64');

  it('verifies over the exact bytes only', async () => {
    const key = await new ScanningPublicKeys({ file: keysFile([{ id: 'k', pem }]) }, 1_000, () => undefined).find('k');
    expect(signatureVerifies(body, signature, key!)).toBe(true);
    expect(signatureVerifies(Buffer.concat([body, Buffer.from(' ')]), signature, key!)).toBe(false);
    expect(signatureVerifies(body, 'AAAA', key!)).toBe(false);
    expect(signatureVerifies(body, 'not base64!', key!)).toBe(false);
    expect(signatureVerifies(body, 'A'.repeat(600), key!)).toBe(false);
  });

  it('parses reports and never quotes a token in its refusal', () => {
    expect(parseLeakReport(body)).toEqual([{ token: 'cbk_x', type: 't', url: 'u', source: 's' }]);
    const secret = 'cbk_ThisIsASecretTokenThatMustNotBeEchoed';
    for (const bad of [`[{"token":"${secret}"}]`, `{"token":"${secret}"}`, `[${secret}`, '[]']) {
      const refusal = parseLeakReport(Buffer.from(bad));
      expect(typeof refusal).toBe('string');
      expect(refusal).not.toContain(secret);
    }
  });
});
