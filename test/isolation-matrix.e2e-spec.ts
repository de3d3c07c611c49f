import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { expectStatus } from './client.js';
import { CALLER_IDS, CALLERS, type CallerId } from './matrix/callers.js';
import { EXPECTED, parseCell, type Cell } from './matrix/expected.js';
import { ROUTES, type RouteId, type RouteSpec, type Target, type TargetKind } from './matrix/routes.js';
import { readKeyState, sweepLeftovers } from './matrix/state.js';
import { buildWorld, type World } from './matrix/world.js';

/**
 * Tenant isolation as a generated matrix: every caller × every management and data-plane
 * route, each cell its own test named after it, checked against the table in matrix/expected.ts.
 */
let world: World;

beforeAll(async () => {
  world = await buildWorld();
}, 120_000);

afterAll(async () => {
  await world?.system.stop();
});

interface MatrixCell {
  name: string;
  caller: CallerId;
  route: RouteId;
  cell: Cell;
}

const spec = (route: RouteId): RouteSpec => ROUTES[route];

function cellName(caller: CallerId, route: RouteId, cell: Cell): string {
  const { status, shown } = parseCell(cell);
  const listing = shown === undefined ? '' : `, ${spec(route).shows!.what} ${shown ? 'listed' : 'not listed'}`;
  return `${CALLERS[caller]} × ${route} → ${shown === undefined ? cell : status}${listing}`;
}

const matrix: MatrixCell[] = (Object.keys(ROUTES) as RouteId[]).flatMap((route) =>
  CALLER_IDS.map((caller) => ({ name: cellName(caller, route, EXPECTED[route][caller]), caller, route, cell: EXPECTED[route][caller] })),
);

/** The owner makes a fresh key for a mutating cell to act on. */
async function createTarget(kind: TargetKind): Promise<Target> {
  const { client, x } = world;
  const [path, place] =
    kind === 'key on A'
      ? ([`/v1/chatbots/${x.chatbotA}/api-keys`, 'chatbotA'] as const)
      : kind === 'key on B'
        ? ([`/v1/chatbots/${x.chatbotB}/api-keys`, 'chatbotB'] as const)
        : (['/v1/api-keys', 'userKeysX'] as const);
  const { body } = expectStatus(await client.call('POST', path, { key: x.ownerKey.key, body: { name: 'matrix target' } }), 201);
  return { id: body.id, key: body.key, name: body.name, place };
}

async function runCell({ caller, route, cell }: MatrixCell): Promise<void> {
  const routeSpec = spec(route);
  const expected = parseCell(cell);
  const target = routeSpec.target ? await createTarget(routeSpec.target) : undefined;
  const before = routeSpec.effect || target ? await readKeyState(world) : undefined;

  const { method, path, body } = routeSpec.request(world, caller, target);
  const answer = await world.client.call(method, path, { key: world.credentials[caller], body });

  const code: unknown = answer.body?.error?.code;
  if (answer.status !== expected.status || code !== expected.code) {
    throw new Error(`expected ${cell}, got ${answer.status}: ${JSON.stringify(answer.body)}`);
  }
  if (expected.code !== undefined) {
    expect(typeof answer.body.error.message).toBe('string');
    expect(answer.body.error.requestId).toBe(answer.headers.get('x-request-id'));
  }
  if (expected.shown !== undefined) expect(routeSpec.shows!.in(world, answer.body)).toBe(expected.shown);

  const context = { world, caller, target, answer };
  if (before) {
    // A refusal changes nothing anywhere; a success changes exactly what the route says.
    const after = await readKeyState(world);
    expect(after).toEqual(expected.code === undefined && routeSpec.effect ? routeSpec.effect(before, context) : before);
  }
  if (expected.code === undefined) await routeSpec.onSuccess?.(context);
}

describe('tenant isolation through the gateway (reseller fixture)', () => {
  afterEach(async () => {
    await sweepLeftovers(world);
  });

  it('starts from the fixture: KA alone on A, KB alone on B, SSO enabled', async () => {
    const state = await readKeyState(world);
    expect(state.chatbotA.map((key) => key.id)).toEqual([world.ka.id]);
    expect(state.chatbotB.map((key) => key.id)).toEqual([world.kb.id]);
    expect(world.credentials.admin.split('.')).toHaveLength(3);
  });

  // Every cell runs: a route that stops being served fails its cells, it never turns them into skips.
  it.each(matrix)('$name', runCell);

  it('leaves chatbot A with its fixture key only, far from the 10-key limit', async () => {
    const state = await readKeyState(world);
    expect(state.chatbotA.map((key) => key.id)).toEqual([world.ka.id]);
    expect(state.userKeysX.map((key) => key.id)).toEqual([world.x.ownerKey.id]);
  });
});
