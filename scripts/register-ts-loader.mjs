// `node --import ./scripts/register-ts-loader.mjs apps/usage-tracker/src/main.ts`
import { register } from 'node:module';

register('./ts-loader.mjs', import.meta.url);
