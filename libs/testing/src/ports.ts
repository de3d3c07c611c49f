// The one free-port finder, shared with the scripts (the quick start, the benches) that cannot load TypeScript.
export { freePort } from '../../../scripts/system.mjs';
