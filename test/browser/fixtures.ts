import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { test as base, expect, type Page } from '@playwright/test';
import { AxeBuilder } from '@axe-core/playwright';
import { startTestSystem, type TestSystem } from '../../libs/testing/src/system.js';
import { ROOT } from '../../scripts/system.mjs';
import { startIdentityProvider, type IdentityProvider } from './identity-provider.js';

export interface ConsoleSystem {
  system: TestSystem;
  idp: IdentityProvider;
  gatewayUrl: string;
  /** Admin answers are read field by field in the tests. */
  admin(method: string, path: string, body?: unknown): Promise<any>;
  /** A call to the data plane with `key`, as an integration would make it. */
  dataPlane(key: string, chatbotId: string): Promise<number>;
}

/** Where each run writes its screenshots; the README shows the committed copies in docs/screenshots. */
export const SCREENSHOTS = process.env.CONSOLE_SCREENSHOTS_DIR ?? join(ROOT, 'test-results', 'console-screenshots');

/**
 * One whole system for the worker: every service built in dist/ on free ports, in its own
 * namespace, with SSO through a real OpenID provider whose JWKS the gateway verifies.
 */
export const test = base.extend<
  { snap: (name: string) => Promise<void>; checkA11y: () => Promise<void> },
  { consoleSystem: ConsoleSystem }
>({
  consoleSystem: [
    // eslint-disable-next-line no-empty-pattern -- Playwright reads a fixture's dependencies from this destructuring: none.
    async ({}, use) => {
      const idp = await startIdentityProvider();
      const system = await startTestSystem({
        SSO_JWKS_URL: idp.jwksUrl,
        SSO_ISSUER: idp.issuer,
        SSO_AUDIENCE: idp.clientId,
        SSO_OIDC_ISSUER: idp.issuer,
        SSO_OIDC_CLIENT_ID: idp.clientId,
      });
      idp.serve(`${system.gatewayUrl}/console/callback`);
      const admin = async (method: string, path: string, body?: unknown) => {
        const response = await fetch(`${system.gatewayUrl}/admin/v1${path}`, {
          method,
          headers: { authorization: `Bearer ${system.adminToken}`, 'content-type': 'application/json' },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
        const answer = response.status === 204 ? null : await response.json();
        if (!response.ok) throw new Error(`admin ${method} ${path}: ${response.status} ${JSON.stringify(answer)}`);
        return answer;
      };
      const dataPlane = async (key: string, chatbotId: string) => {
        const response = await fetch(`${system.gatewayUrl}/api/v1/chatbots/${chatbotId}/messages`, {
          headers: { authorization: `Bearer ${key}` },
        });
        await response.arrayBuffer();
        return response.status;
      };
      await use({ system, idp, gatewayUrl: system.gatewayUrl, admin, dataPlane });
      await system.stop();
      await idp.stop();
    },
    { scope: 'worker', timeout: 300_000 },
  ],
  baseURL: async ({ consoleSystem }, use) => use(consoleSystem.gatewayUrl),
  snap: async ({ page }, use, testInfo) => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    const width = page.viewportSize()?.width ?? 0;
    await use(async (name) => {
      const file = join(SCREENSHOTS, `${name}${width <= 400 ? '-mobile' : ''}.png`);
      await page.screenshot({ path: file, fullPage: true, animations: 'disabled', caret: 'hide' });
      await testInfo.attach(name, { path: file, contentType: 'image/png' });
    });
  },
  checkA11y: async ({ page }, use) => {
    await use(async () => {
      const results = await new AxeBuilder({ page }).analyze();
      const serious = results.violations
        .filter((violation) => violation.impact === 'serious' || violation.impact === 'critical')
        .map((violation) => ({ id: violation.id, impact: violation.impact, targets: violation.nodes.map((node) => String(node.target)) }));
      expect(serious).toEqual([]);
    });
  },
});

export { expect };

/** An account with chatbots, an owner (with a user-level key and an SSO subject) and a member assigned to the first chatbot. */
export async function provisionAccount(consoleSystem: ConsoleSystem, options: { plan?: string; chatbots?: string[] } = {}) {
  const tag = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  const account = await consoleSystem.admin('POST', '/accounts', { name: `Agency ${tag}`, plan: options.plan ?? 'entry' });
  const chatbots: { id: string; name: string }[] = [];
  for (const name of options.chatbots ?? ['Support bot', 'Sales bot', 'Booking assistant']) {
    chatbots.push(await consoleSystem.admin('POST', `/accounts/${account.id}/chatbots`, { name }));
  }
  const owner = await consoleSystem.admin('POST', `/accounts/${account.id}/users`, {
    email: `owner-${tag}@example.test`,
    role: 'owner',
    ssoSubject: `owner-${tag}`,
  });
  const ownerKey = (await consoleSystem.admin('POST', `/users/${owner.id}/api-keys`, { name: 'Owner key' })).key as string;
  const member = await consoleSystem.admin('POST', `/accounts/${account.id}/users`, {
    email: `member-${tag}@example.test`,
    role: 'member',
    ssoSubject: `member-${tag}`,
    chatbotIds: [chatbots[0].id],
  });
  return { account, chatbots, owner, ownerKey, member, ownerSubject: `owner-${tag}`, memberSubject: `member-${tag}` };
}

export async function signInWithKey(page: Page, key: string): Promise<void> {
  await page.goto('/console/');
  await page.getByLabel('User-level API key').fill(key);
  await page.getByRole('button', { name: 'Sign in with key' }).click();
  await expect(page.getByRole('button', { name: 'Sign out' })).toBeVisible();
}

/** Through the provider's own login and consent pages, as a person would. */
export async function signInWithSso(page: Page, subject: string): Promise<void> {
  await page.goto('/console/');
  await page.getByRole('button', { name: 'Sign in with SSO' }).click();
  await page.locator('input[name="login"]').fill(subject);
  await page.locator('input[name="password"]').fill('any password');
  await page.getByRole('button', { name: 'Sign-in' }).click();
  await page.getByRole('button', { name: 'Continue' }).click();
  await expect(page.getByRole('button', { name: 'Sign out' })).toBeVisible();
}
