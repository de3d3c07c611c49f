import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startManagementSystem, type ManagementSystem } from '../../../../libs/testing/src/management-system.js';
import { OPENAPI_PATH } from './openapi-document.js';

describe('GET /v1/openapi.json on a running gateway', () => {
  let system: ManagementSystem;
  beforeAll(async () => {
    system = await startManagementSystem();
  });
  afterAll(async () => {
    await system?.stop();
  });

  it('answers the committed document without credentials', async () => {
    const answer = await system.http.call('GET', OPENAPI_PATH);
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toMatch(/^application\/json/);
    expect(answer.headers.get('x-request-id')).toBeTruthy();
    expect(answer.body).toEqual(JSON.parse(readFileSync(join(process.cwd(), 'docs/openapi.json'), 'utf8')));
  });

  it('leaves the management routes beside it guarded', async () => {
    const answer = await system.http.call('GET', '/v1/chatbots');
    expect(answer.status).toBe(401);
    expect(answer.body.error.code).toBe('missing_api_key');
  });
});
