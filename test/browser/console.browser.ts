import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { provisionDemo } from '../../scripts/quickstart-demo.mjs';
import { expect, provisionAccount, signInWithKey, signInWithSso, test } from './fixtures.js';

test.describe('the console, served by the gateway', () => {
  test('is static files under /console/ with a strict policy, cached by hash, and the page for any client route', async ({
    request,
    consoleSystem,
  }) => {
    const page = await request.get('/console/');
    expect(page.status()).toBe(200);
    expect(page.headers()['content-type']).toBe('text/html; charset=utf-8');
    expect(page.headers()['cache-control']).toBe('no-store');
    const policy = page.headers()['content-security-policy'];
    expect(policy).toContain("script-src 'self'");
    expect(policy).toContain("style-src 'self'");
    expect(policy).toContain(`connect-src 'self' ${consoleSystem.idp.issuer}`);
    expect(policy).toContain("frame-ancestors 'none'");
    expect(policy).not.toContain('unsafe');
    const html = await page.text();
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(html).not.toMatch(/<style|style=/);

    const script = /src="(\/console\/assets\/[^"]+\.js)"/.exec(html)![1];
    const asset = await request.get(script);
    expect(asset.headers()['content-type']).toBe('text/javascript; charset=utf-8');
    expect(asset.headers()['cache-control']).toBe('public, max-age=31536000, immutable');

    // The first load's JavaScript, gzipped, stays within 200 KB (every script the page names).
    let gzipped = 0;
    for (const [, src] of html.matchAll(/(?:src|href)="(\/console\/assets\/[^"]+\.js)"/g))
      gzipped += gzipSync(await (await request.get(src)).body()).length;
    expect(gzipped).toBeGreaterThan(0);
    expect(gzipped).toBeLessThanOrEqual(200 * 1024);

    const clientRoute = await request.get('/console/chatbots/some-id/settings/api-keys');
    expect(await clientRoute.text()).toBe(html);
    expect((await request.get('/console/assets/missing-0000.js')).status()).toBe(404);
    expect((await request.get('/console/..%2f..%2fpackage.json')).status()).toBe(404);

    const config = await request.get('/console/config.json');
    expect(await config.json()).toEqual({ sso: { issuer: consoleSystem.idp.issuer, clientId: consoleSystem.idp.clientId } });
    expect(config.headers()['cache-control']).toBe('no-store');
  });
});

test.describe('signed in with a user-level key', () => {
  test('create, copy once, use, rename, see usage, revoke: and the revoked key is refused at once', async ({
    page,
    context,
    consoleSystem,
    snap,
    checkA11y,
  }) => {
    const tenant = await provisionAccount(consoleSystem);
    await context.grantPermissions(['clipboard-read', 'clipboard-write']);
    await page.goto('/console/');
    await snap('sign-in');
    await checkA11y();
    await signInWithKey(page, tenant.ownerKey);

    // Chatbots: every chatbot of the account, searchable.
    const chatbots = page.getByRole('list', { name: 'Chatbots' });
    await expect(chatbots.getByRole('link')).toHaveCount(3);
    await snap('chatbots');
    await checkA11y();
    await page.getByLabel('Search chatbots').fill('sales');
    await expect(chatbots.getByRole('link')).toHaveCount(1);
    await chatbots.getByRole('link', { name: /Sales bot/ }).click();

    // Settings › API Keys, with the New badge.
    const sidebar = page.getByRole('navigation', { name: 'Chatbot settings' });
    await expect(sidebar.getByRole('link', { name: /API Keys/ })).toContainText('New');
    await expect(page.getByRole('heading', { name: 'API Keys' })).toBeVisible();
    await expect(page.getByText('0 of 10')).toBeVisible();
    await expect(page.getByText('No keys yet.')).toBeVisible();

    // Create, with a name; the key is shown once, and the dialog stays until the user confirms.
    await page.getByRole('button', { name: 'Create new key' }).click();
    await page.getByLabel('Name (optional)').fill('Zapier');
    await page.getByRole('button', { name: 'Create key' }).click();
    const reveal = page.getByRole('dialog', { name: 'Save your new key' });
    await expect(reveal).toContainText("won't be shown again");
    const key = await reveal.getByRole('textbox').inputValue();
    expect(key).toMatch(/^cbk_[A-Za-z0-9]{38}$/);
    await reveal.getByRole('button', { name: 'Copy' }).click();
    await expect(reveal.getByRole('status')).toHaveText('Copied to the clipboard.');
    expect(await page.evaluate<string>('navigator.clipboard.readText()')).toBe(key);
    await snap('new-key-dialog');
    await checkA11y();
    await page.keyboard.press('Escape');
    await expect(reveal).toBeVisible();
    await expect(reveal.getByRole('button', { name: 'Done' })).toBeDisabled();
    await reveal.getByLabel('I have saved this key').check();
    await reveal.getByRole('button', { name: 'Done' }).click();
    await expect(reveal).toBeHidden();
    await expect(page.getByText(key)).toHaveCount(0);

    const row = page.getByRole('row').filter({ hasText: /Zapier/ });
    await expect(row).toContainText(key.slice(0, 12));
    await expect(row).toContainText('Active');
    await expect(row).toContainText('Never');
    await expect(page.getByText('1 of 10')).toBeVisible();

    // The copied key works on the data plane, and the page shows the use.
    const sales = tenant.chatbots[1].id;
    expect(await consoleSystem.dataPlane(key, sales)).toBe(200);
    expect(await consoleSystem.dataPlane(key, sales)).toBe(200);
    // Both uses may reach the tracker in one batch or in two: the page is read again until it shows both.
    await expect(async () => {
      await page.reload();
      const used = page.getByRole('row').filter({ hasText: /Zapier/ });
      await expect(used.locator('time[title]').nth(1)).toHaveText(/second|now|minute/, { timeout: 500 });
      await expect(used.getByRole('img')).toHaveAccessibleName(/2 uses in the last 7 days/, { timeout: 500 });
    }).toPass({ timeout: 10_000 });
    await snap('api-keys');
    await checkA11y();

    // Rename in place, keyboard only.
    await page
      .getByRole('row')
      .filter({ hasText: /Zapier/ })
      .getByRole('button', { name: 'Rename' })
      .click();
    const nameField = page.getByLabel('New name for Zapier');
    await expect(nameField).toBeFocused();
    await nameField.fill('Zapier production');
    await nameField.press('Enter');
    await expect(page.getByRole('row').filter({ hasText: /Zapier production/ })).toBeVisible();
    await expect(page.getByRole('status').filter({ hasText: 'Renamed' })).toHaveText('Renamed to “Zapier production”.');
    expect(await consoleSystem.dataPlane(key, sales)).toBe(200);

    // Usage: a chart per minute/hour/day over a chosen range, with totals.
    await page
      .getByRole('row')
      .filter({ hasText: /Zapier production/ })
      .getByRole('link', { name: 'Usage' })
      .click();
    await expect(page.getByRole('heading', { name: 'Usage of “Zapier production”' })).toBeVisible();
    // The third use reaches the usage series within seconds (flush, then ingest): reload until it shows.
    await expect(async () => {
      await page.reload();
      await expect(page.getByTestId('usage-total')).toHaveText('3', { timeout: 500 });
    }).toPass({ timeout: 15_000 });
    await page.getByLabel('minute').check();
    await expect(page.getByRole('img', { name: /Uses per minute: 3 in total/ })).toBeVisible();
    await page.getByLabel('Range').selectOption('7d');
    await expect(page.getByLabel('minute')).toBeDisabled();
    await expect(page.getByRole('img', { name: /Uses per hour: 3 in total/ })).toBeVisible();
    await page.getByLabel('Range').selectOption('24h');
    await snap('key-usage');
    await checkA11y();
    await page.getByRole('link', { name: '← Back to keys' }).click();

    // Revoke, confirming with the key's name; refused on the data plane right after the click.
    await page
      .getByRole('row')
      .filter({ hasText: /Zapier production/ })
      .getByRole('button', { name: 'Revoke' })
      .click();
    const confirm = page.getByRole('dialog', { name: 'Revoke “Zapier production”?' });
    await expect(confirm).toContainText(key.slice(0, 12));
    await snap('revoke-dialog');
    await checkA11y();
    await confirm.getByRole('button', { name: 'Revoke key', exact: true }).click();
    await expect(confirm).toBeHidden();
    await expect(page.getByRole('row').filter({ hasText: /Zapier production/ })).toHaveCount(0);
    await expect(page.getByText('0 of 10')).toBeVisible();
    await expect.poll(() => consoleSystem.dataPlane(key, sales), { timeout: 1000, intervals: [25] }).toBe(401);

    // No key in any address the browser visited, nor in any service's log; sign-out forgets the credential.
    expect(page.url()).not.toContain(key);
    expect(consoleSystem.system.logs()).not.toContain(key);
    expect(consoleSystem.system.logs()).not.toContain(tenant.ownerKey);
    expect(await page.evaluate<string[]>('Object.keys(localStorage)')).toEqual([]);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await expect(page.getByLabel('User-level API key')).toBeVisible();
    expect(await page.evaluate<string>('JSON.stringify(sessionStorage)')).not.toContain(tenant.ownerKey);
    await page.reload();
    await expect(page.getByLabel('User-level API key')).toBeVisible();
  });

  test('counts keys up to 10 and then says why no more can be made', async ({ page, consoleSystem, snap }) => {
    const tenant = await provisionAccount(consoleSystem);
    const chatbot = tenant.chatbots[0];
    for (let index = 1; index <= 9; index += 1) {
      const response = await fetch(`${consoleSystem.gatewayUrl}/v1/chatbots/${chatbot.id}/api-keys`, {
        method: 'POST',
        headers: { authorization: `Bearer ${tenant.ownerKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name: `Integration ${index}` }),
      });
      expect(response.status).toBe(201);
    }
    await signInWithKey(page, tenant.ownerKey);
    await page.goto(`/console/chatbots/${chatbot.id}/settings/api-keys`);
    await expect(page.getByText('9 of 10')).toBeVisible();
    await page.getByRole('button', { name: 'Create new key' }).click();
    await page.getByRole('button', { name: 'Create key' }).click();
    const reveal = page.getByRole('dialog', { name: 'Save your new key' });
    await expect(reveal.getByText('Untitled key')).toBeVisible();
    await reveal.getByLabel('I have saved this key').check();
    await reveal.getByRole('button', { name: 'Done' }).click();
    await expect(page.getByText('10 of 10')).toBeVisible();
    const create = page.getByRole('button', { name: 'Create new key' });
    await expect(create).toBeDisabled();
    await expect(create).toHaveAccessibleDescription(/10 active keys, the most allowed/);
    await snap('api-keys-full');
  });

  test('on the free plan, says why chatbot keys are unavailable', async ({ page, consoleSystem, snap, checkA11y }) => {
    const tenant = await provisionAccount(consoleSystem, { plan: 'free' });
    await signInWithKey(page, tenant.ownerKey);
    await page.goto(`/console/chatbots/${tenant.chatbots[0].id}/settings/api-keys`);
    await page.getByRole('button', { name: 'Create new key' }).click();
    await page.getByRole('button', { name: 'Create key' }).click();
    const create = page.getByRole('button', { name: 'Create new key' });
    await expect(create).toBeDisabled();
    await expect(create).toHaveAccessibleDescription(/Free plan, which doesn't include chatbot keys/);
    await snap('free-plan');
    await checkA11y();
  });

  test('a chatbot key or a wrong key is refused at sign-in, in plain words', async ({ page, consoleSystem }) => {
    const tenant = await provisionAccount(consoleSystem);
    await page.goto('/console/');
    await page.getByLabel('User-level API key').fill(`${tenant.ownerKey.slice(0, -3)}abc`);
    await page.getByRole('button', { name: 'Sign in with key' }).click();
    await expect(page.getByRole('alert')).toHaveText(/That key is not valid/);
  });
});

test.describe('signed in with SSO', () => {
  test('an owner manages the account’s user-level keys', async ({ page, consoleSystem, snap, checkA11y }) => {
    const tenant = await provisionAccount(consoleSystem);
    await signInWithSso(page, tenant.ownerSubject);
    expect(page.url()).not.toMatch(/code=|state=/);
    await expect(page.getByRole('banner')).toContainText(tenant.ownerSubject);
    await page.getByRole('link', { name: 'Account keys' }).click();
    await expect(page.getByRole('heading', { name: 'User-level API keys' })).toBeVisible();
    await expect(page.getByRole('row').filter({ hasText: /Owner key/ })).toBeVisible();

    await page.getByRole('button', { name: 'Create new key' }).click();
    await page.getByLabel('Name (optional)').fill('CI pipeline');
    await page.getByRole('button', { name: 'Create key' }).click();
    const reveal = page.getByRole('dialog', { name: 'Save your new key' });
    const key = await reveal.getByRole('textbox').inputValue();
    expect(key).toMatch(/^usk_/);
    await reveal.getByLabel('I have saved this key').check();
    await reveal.getByRole('button', { name: 'Done' }).click();
    expect(await consoleSystem.dataPlane(key, tenant.chatbots[2].id)).toBe(200);

    await page
      .getByRole('row')
      .filter({ hasText: /CI pipeline/ })
      .getByRole('button', { name: 'Rename' })
      .click();
    await page.getByLabel('New name for CI pipeline').fill('CI deploys');
    await page.getByRole('button', { name: 'Save' }).click();
    await expect(page.getByRole('row').filter({ hasText: /CI deploys/ })).toBeVisible();
    await snap('account-keys');
    await checkA11y();

    await page
      .getByRole('row')
      .filter({ hasText: /CI deploys/ })
      .getByRole('button', { name: 'Revoke' })
      .click();
    await page.getByRole('dialog', { name: 'Revoke “CI deploys”?' }).getByRole('button', { name: 'Revoke key', exact: true }).click();
    await expect(page.getByRole('row').filter({ hasText: /CI deploys/ })).toHaveCount(0);
    await expect.poll(() => consoleSystem.dataPlane(key, tenant.chatbots[2].id), { timeout: 1000, intervals: [25] }).toBe(401);

    await page.getByRole('button', { name: 'Sign out' }).click();
    await expect(page.getByRole('button', { name: 'Sign in with SSO' })).toBeVisible();
    expect(await page.evaluate<number>('sessionStorage.length + localStorage.length')).toBe(0);
  });

  test('a member sees only the assigned chatbot, and no account keys', async ({ page, consoleSystem, snap, checkA11y }) => {
    const tenant = await provisionAccount(consoleSystem);
    await signInWithSso(page, tenant.memberSubject);
    const chatbots = page.getByRole('list', { name: 'Chatbots' });
    await expect(chatbots.getByRole('link')).toHaveCount(1);
    await expect(chatbots.getByRole('link')).toContainText(tenant.chatbots[0].name);
    await expect(page.getByText('The chatbots assigned to you.')).toBeVisible();
    await expect(page.getByRole('link', { name: 'Account keys' })).toHaveCount(0);
    await snap('chatbots-member');
    await checkA11y();

    await page.goto(`/console/chatbots/${tenant.chatbots[1].id}/settings/api-keys`);
    await expect(page.getByRole('alert')).toHaveText(/doesn't exist, or you don't have access to it/);
    await page.goto('/console/account/api-keys');
    await expect(page.getByRole('heading', { name: 'Page not found' })).toBeVisible();
  });
});

test.describe('on a phone (390 px wide)', () => {
  test.use({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });

  test('every page fits and every action is reachable', async ({ page, consoleSystem, snap, checkA11y }) => {
    const tenant = await provisionAccount(consoleSystem);
    await page.goto('/console/');
    await snap('sign-in');
    await signInWithKey(page, tenant.ownerKey);
    await snap('chatbots');
    await page.getByRole('link', { name: /Support bot/ }).click();
    await page.getByRole('button', { name: 'Create new key' }).click();
    await page.getByLabel('Name (optional)').fill('Website widget');
    await page.getByRole('button', { name: 'Create key' }).click();
    const reveal = page.getByRole('dialog', { name: 'Save your new key' });
    await snap('new-key-dialog');
    await reveal.getByLabel('I have saved this key').check();
    await reveal.getByRole('button', { name: 'Done' }).click();
    const row = page.getByRole('row').filter({ hasText: /Website widget/ });
    for (const name of ['Rename', 'Revoke']) await expect(row.getByRole('button', { name })).toBeInViewport();
    await snap('api-keys');
    await checkA11y();
    const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - document.documentElement.clientWidth');
    expect(overflow).toBeLessThanOrEqual(0);
    await row.getByRole('link', { name: 'Usage' }).click();
    await expect(page.getByTestId('usage-total')).toHaveText('0');
    await snap('key-usage');
  });
});

test.describe('the quick start', () => {
  test('provisions one demo tenant, a fresh owner key on each start, and that key signs in to the console', async ({
    page,
    consoleSystem,
  }) => {
    const stateFile = join(mkdtempSync(join(tmpdir(), 'quickstart-')), 'demo.json');
    const first = await provisionDemo(consoleSystem.gatewayUrl, consoleSystem.system.adminToken, stateFile);
    const second = await provisionDemo(consoleSystem.gatewayUrl, consoleSystem.system.adminToken, stateFile);
    expect([second.accountId, second.chatbotId, second.userId]).toEqual([first.accountId, first.chatbotId, first.userId]);
    expect(second.ownerKey).not.toBe(first.ownerKey);
    expect(readFileSync(stateFile, 'utf8')).not.toContain(second.ownerKey);
    await expect.poll(() => consoleSystem.dataPlane(first.ownerKey, first.chatbotId), { timeout: 1000, intervals: [25] }).toBe(401);
    expect(await consoleSystem.dataPlane(second.ownerKey, first.chatbotId)).toBe(200);

    await signInWithKey(page, second.ownerKey);
    await page.getByRole('link', { name: /Support bot/ }).click();
    await expect(page.getByRole('button', { name: 'Create new key' })).toBeEnabled();
  });
});
