// After a test run: stops the containers jest-global-setup.mjs started (the environment's own
// services are left running).
export default async function globalTeardown() {
  await globalThis.testServices?.stop();
}
