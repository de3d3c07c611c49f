// `npm run migrate`: applies every service's migrations to DATABASE_URL, creating the database if missing.
import { migrate } from './system.mjs';

await migrate();
