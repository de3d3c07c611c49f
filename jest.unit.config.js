/**
 * `npm run test:unit`: the unit specs only (`*.spec.ts`), in seconds: no build, no PostgreSQL,
 * Redis or NATS, no server of a test's own. Integration specs (`*.integration.spec.ts`: real
 * services or servers a spec starts) and end-to-end specs (`*.e2e-spec.ts`: the built system)
 * run in `npm test`, which runs everything.
 */
import base from './jest.config.js';

const { globalSetup: _servicesOnly, globalTeardown: _servicesStop, ...unit } = base;

export default {
  ...unit,
  testPathIgnorePatterns: ['/node_modules/', '\\.integration\\.spec\\.ts$', '\\.e2e-spec\\.ts$'],
};
