import { httpRequest } from '@app/testing';

/** A small HTTP client for the end-to-end suites: what a user of the gateway would send. */
export interface Answer {
  status: number;
  headers: Headers;
  body: any;
}

export class GatewayClient {
  constructor(
    readonly baseUrl: string,
    private readonly adminToken: string,
  ) {}

  async call(
    method: string,
    path: string,
    options: { key?: string; body?: unknown; headers?: Record<string, string> } = {},
  ): Promise<Answer> {
    const answer = await httpRequest(this.baseUrl, { method, path, key: options.key, headers: options.headers, json: options.body });
    // Not JSON: keep the text; an empty body is null.
    return {
      status: answer.status,
      headers: answer.headers,
      body: answer.text === '' ? null : answer.json === undefined ? answer.text : answer.json,
    };
  }

  admin(method: string, path: string, body?: unknown): Promise<Answer> {
    return this.call(method, `/admin/v1${path}`, { key: this.adminToken, body });
  }

  /** Provisions an account with a chatbot per name and an owner holding a user-level key. */
  async provision(plan = 'entry', chatbotNames = ['Support bot', 'Sales bot']) {
    const account = expectStatus(await this.admin('POST', '/accounts', { name: `Agency ${Date.now()}`, plan }), 201).body;
    const chatbots = [];
    for (const name of chatbotNames) {
      chatbots.push(expectStatus(await this.admin('POST', `/accounts/${account.id}/chatbots`, { name }), 201).body);
    }
    const owner = expectStatus(
      await this.admin('POST', `/accounts/${account.id}/users`, { email: `owner-${account.id}@example.com`, role: 'owner' }),
      201,
    ).body;
    const userKey = expectStatus(await this.admin('POST', `/users/${owner.id}/api-keys`, { name: 'Owner key' }), 201).body;
    return { account, chatbots, owner, userKey: userKey.key as string, userKeyId: userKey.id as string };
  }
}

export function expectStatus(answer: Answer, status: number): Answer {
  if (answer.status !== status) {
    throw new Error(`expected ${status}, got ${answer.status}: ${JSON.stringify(answer.body)}`);
  }
  return answer;
}
