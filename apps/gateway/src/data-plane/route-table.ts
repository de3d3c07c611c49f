/** Where a route's target chatbot id comes from; `null` on account routes. */
export type ChatbotIdSource = { from: 'path' | 'query' | 'body'; name: string } | null;

export interface RouteDefinition {
  /** `*`, one method, or a list; `GET` also covers `HEAD`. */
  method: string | string[];
  /** Segments: literals, `:name` (one segment, possibly empty), `*` (one segment), and a final `**` (any rest). */
  path: string;
  chatbotId: ChatbotIdSource;
}

type Segment = { kind: 'literal'; value: string } | { kind: 'param'; name: string } | { kind: 'any' };

export interface CompiledRoute {
  definition: RouteDefinition;
  methods: ReadonlySet<string> | null;
  segments: Segment[];
  /** Ends in `**`: any number of further segments (none too). */
  open: boolean;
}

export interface RouteMatch {
  route: CompiledRoute;
  chatbotIdSource: ChatbotIdSource;
  params: Record<string, string>;
}

/** The default table (docs/api.md, Chatbot API traffic). */
export const DEFAULT_ROUTES: RouteDefinition[] = [
  { method: '*', path: '/api/v1/chatbots/:chatbotId/**', chatbotId: { from: 'path', name: 'chatbotId' } },
  { method: 'POST', path: '/api/v1/chat', chatbotId: { from: 'body', name: 'chatbotId' } },
  { method: '*', path: '/api/v1/**', chatbotId: null },
];

/**
 * First match wins. Paths are matched after normalisation, segment by segment; literals match
 * whatever their case (Express, ASP.NET and IIS route case-insensitively: `/API/V1/CHATBOTS/{id}`
 * must be the chatbot route here too, not fall through to an account route), and a trailing `/`
 * is the route without it.
 */
export class RouteTable {
  private readonly routes: CompiledRoute[];

  constructor(definitions: RouteDefinition[]) {
    this.routes = definitions.map(compileRoute);
  }

  match(method: string, path: string): RouteMatch | null {
    const parts = path.slice(1).split('/');
    for (const route of this.routes) {
      if (route.methods && !route.methods.has(method)) continue;
      const params = matchSegments(route, parts);
      if (params) return { route, chatbotIdSource: route.definition.chatbotId, params };
    }
    return null;
  }
}

export function compileRoute(definition: RouteDefinition): CompiledRoute {
  const listed = typeof definition.method === 'string' ? [definition.method] : definition.method;
  const methods = listed.includes('*') ? null : new Set(listed.flatMap((m) => (m === 'GET' ? ['GET', 'HEAD'] : [m])));
  const raw = definition.path.slice(1).split('/');
  const segments: Segment[] = [];
  let open = false;
  raw.forEach((part, index) => {
    if (part === '**') {
      if (index !== raw.length - 1) throw new RouteError('path', '`**` may only be the last segment');
      open = true;
    } else if (part === '*') segments.push({ kind: 'any' });
    else if (part.startsWith(':')) segments.push({ kind: 'param', name: part.slice(1) });
    else segments.push({ kind: 'literal', value: part.toLowerCase() });
  });
  const names = segments.flatMap((s) => (s.kind === 'param' ? [s.name] : []));
  if (new Set(names).size !== names.length) throw new RouteError('path', 'a path parameter is named twice');
  const source = definition.chatbotId;
  if (source?.from === 'path' && !names.includes(source.name)) {
    throw new RouteError('chatbotId', `the path has no parameter ":${source.name}"`);
  }
  return { definition, methods, segments, open };
}

function matchSegments(route: CompiledRoute, parts: string[]): Record<string, string> | null {
  const { segments, open } = route;
  // `/api/v1/chat/` is `/api/v1/chat` to most upstreams: a trailing slash must not dodge a route.
  if (!open && parts.length === segments.length + 1 && parts[parts.length - 1] === '') parts = parts.slice(0, -1);
  if (open ? parts.length < segments.length : parts.length !== segments.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i];
    if (segment.kind === 'literal') {
      const part = parts[i];
      // The exact spelling first: nearly every request uses it, and then nothing is lower-cased.
      if (part !== segment.value && part.toLowerCase() !== segment.value) return null;
    } else if (segment.kind === 'param') params[segment.name] = parts[i];
  }
  return params;
}

/** A route definition that cannot work; `field` names the offending property. */
export class RouteError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}
