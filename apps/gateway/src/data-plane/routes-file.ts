import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ConfigError } from '@app/common';
import { API_ROOT } from './api-path.js';
import { DEFAULT_ROUTES, RouteError, compileRoute, type RouteDefinition } from './route-table.js';

const METHOD = z.string().regex(/^(\*|[A-Z]+)$/, 'must be "*" or an upper-case HTTP method');
const NAME = z.string().regex(/^[A-Za-z_][A-Za-z0-9_-]{0,63}$/, 'must be a plain identifier');
// No `;`: a path holding one is refused before routing, so such a literal could never match.
const SEGMENT = /^(\*\*|\*|:[A-Za-z_][A-Za-z0-9_]*|[A-Za-z0-9\-_~!$&'()+,=@]+)$/;

const RouteSchema = z
  .object({
    $comment: z.string().optional(),
    method: z.union([METHOD, z.array(METHOD).min(1)]),
    path: z
      .string()
      .refine((path) => path.startsWith(API_ROOT), `must start with ${API_ROOT}`)
      .refine(
        (path) =>
          path
            .slice(1)
            .split('/')
            .every((segment) => SEGMENT.test(segment) && segment !== '.' && segment !== '..'),
        'segments must be literals, ":name", "*" or a final "**" (no empty, "." or ".." segments, no encodings)',
      ),
    chatbotId: z.union([z.null(), z.object({ from: z.enum(['path', 'query', 'body']), name: NAME }).strict()]),
  })
  .strict();

const RoutesFileSchema = z
  .object({ $comment: z.union([z.string(), z.array(z.string())]).optional(), routes: z.array(RouteSchema).min(1) })
  .strict();

/** The route table: ROUTES_FILE when configured (validated, fail fast), else the contract's default. */
export function loadRoutes(routesFile: string | undefined): RouteDefinition[] {
  if (routesFile === undefined) return DEFAULT_ROUTES;
  let text: string;
  try {
    text = readFileSync(routesFile, 'utf8');
  } catch (error) {
    throw new ConfigError(`ROUTES_FILE ${routesFile}: cannot be read (${(error as Error).message})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`ROUTES_FILE ${routesFile}: not valid JSON (${(error as Error).message})`);
  }
  return parseRoutes(json, `ROUTES_FILE ${routesFile}`);
}

export function parseRoutes(json: unknown, origin: string): RouteDefinition[] {
  const parsed = RoutesFileSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ConfigError(`${origin}: ${issue.path.map(String).join('.') || '(file)'}: ${issue.message}`);
  }
  const routes = parsed.data.routes.map(({ method, path, chatbotId }) => ({ method, path, chatbotId }));
  routes.forEach((route, index) => {
    try {
      compileRoute(route);
    } catch (error) {
      if (!(error instanceof RouteError)) throw error;
      throw new ConfigError(`${origin}: routes.${index}.${error.field}: ${error.message}`);
    }
  });
  return routes;
}
