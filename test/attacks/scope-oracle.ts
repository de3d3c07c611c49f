import type { Forwarded } from './attack-system.js';

/** What one presented key may reach: chatbot ids, and whether account-level routes too. */
export interface Reach {
  keyId: string;
  type: 'chatbot' | 'user';
  accountId: string;
  chatbots: ReadonlySet<string>;
  accountRoutes: boolean;
}

/**
 * Every value of the top-level field `name` in a JSON object text, duplicates included and
 * escapes decoded: an upstream whose parser keeps the first duplicate rather than the last
 * reads a different chatbot than one that keeps the last, so every occurrence counts.
 */
export function topLevelValues(text: string, name: string): unknown[] {
  const values: unknown[] = [];
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (char === '{' || char === '[') depth++;
    else if (char === '}' || char === ']') depth--;
    else if (char === '"') {
      const end = stringEnd(text, i);
      const isKey = depth === 1 && /^\s*:/.test(text.slice(end + 1, end + 64));
      if (isKey && JSON.parse(text.slice(i, end + 1)) === name) {
        const valueAt = text.indexOf(':', end) + 1;
        values.push(readValue(text, valueAt));
      }
      i = end;
    }
  }
  return values;
}

function stringEnd(text: string, start: number): number {
  for (let i = start + 1; i < text.length; i++) {
    if (text[i] === '\\') i++;
    else if (text[i] === '"') return i;
  }
  return text.length;
}

function readValue(text: string, from: number): unknown {
  const rest = text.slice(from).trimStart();
  if (rest.startsWith('"')) return JSON.parse(rest.slice(0, stringEnd(rest, 0) + 1));
  return rest.slice(0, /[,}\]]/.exec(rest)?.index ?? rest.length).trim();
}

/**
 * How the most lenient upstream framework reads a path: `;…` matrix parameters cut from each
 * segment (Tomcat, Jetty, Spring) before and after percent-decoding, encoded separators decoded and
 * split on, empty segments dropped, `.` and `..` resolved, and letters folded (Express, ASP.NET).
 */
export function lenientSegments(path: string): string[] {
  const pieces: string[] = [];
  for (const raw of path.split('/')) {
    let segment = raw.split(';')[0];
    try {
      segment = decodeURIComponent(segment);
    } catch {
      // A malformed escape stays as sent: such a framework reads the raw text.
    }
    pieces.push(...segment.split(';')[0].split(/[/\\]/));
  }
  const out: string[] = [];
  for (const piece of pieces) {
    if (piece === '' || piece === '.') continue;
    if (piece === '..') out.pop();
    else out.push(piece.toLowerCase());
  }
  return out;
}

/** Whether a member or parameter name binds to `chatbotId` in a case-insensitive binder (Go, ASP.NET Core, qs arrays). */
function namesChatbotId(name: string): boolean {
  const base = name.split('[')[0];
  return base.toLowerCase() === 'chatbotid' || base.toUpperCase() === 'CHATBOTID';
}

/** Every chatbot id a lenient binder may read from the JSON body and the query string: members of any case, duplicates included. */
function lenientBodyTargets(request: Forwarded, query: string): string[] {
  const fromQuery = [...new URLSearchParams(query)].filter(([name]) => namesChatbotId(name)).map(([, value]) => value);
  const type = String(request.headers['content-type'] ?? '').toLowerCase();
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(request.body).replace(/^\uFEFF/, '');
  } catch {
    return ['(unreadable body)'];
  }
  if (!type.startsWith('application/json')) {
    // A form parser reads the same bytes as fields.
    return [...fromQuery, ...[...new URLSearchParams(text)].filter(([name]) => namesChatbotId(name)).map(([, value]) => value)];
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return ['(unreadable body)'];
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return fromQuery;
  // Every distinct spelling is its own key of the parsed object; topLevelValues adds the duplicates of each.
  const names = Object.keys(json).filter(namesChatbotId);
  return [...fromQuery, ...names.flatMap((name) => topLevelValues(text, name).map(String))];
}

/**
 * The chatbots a lenient upstream reads from a forwarded request (default route table), lower-cased,
 * or null for an account route. It routes `/api/v1/chatbots/{id}…` and `POST /api/v1/chat` by the
 * lenient path above; on the chat route it binds `chatbotId` from the JSON body and the query string,
 * in any case. (A strict upstream reads a subset of this: whatever is safe here is safe there.)
 */
export function upstreamTargets(request: Forwarded): string[] | null {
  const queryAt = request.url.indexOf('?');
  const path = queryAt === -1 ? request.url : request.url.slice(0, queryAt);
  const query = queryAt === -1 ? '' : request.url.slice(queryAt + 1);
  const segments = lenientSegments(path);
  if (segments[0] !== 'api' || segments[1] !== 'v1') return null;
  if (segments[2] === 'chatbots' && segments.length > 3) return [segments[3]];
  if (request.method === 'POST' && segments[2] === 'chat' && segments.length === 3) {
    return lenientBodyTargets(request, query).map((target) => target.toLowerCase());
  }
  return null;
}

/**
 * Problems with one forwarded request (empty when it stayed in scope): it must carry the
 * verified identity of a key the client presented, no credential, and target only what that key reaches.
 */
export function scopeViolations(request: Forwarded, reachByKeyId: ReadonlyMap<string, Reach>): string[] {
  const problems: string[] = [];
  const header = (name: string) => request.headers[name];
  if (header('authorization') !== undefined || header('x-api-key') !== undefined) problems.push('a credential was forwarded');
  const reach = reachByKeyId.get(String(header('x-api-key-id')));
  if (!reach) return [...problems, `forwarded under an unknown key id ${String(header('x-api-key-id'))}`];
  if (header('x-account-id') !== reach.accountId) problems.push(`X-Account-Id ${String(header('x-account-id'))}`);
  if (header('x-api-key-type') !== reach.type) problems.push(`X-Api-Key-Type ${String(header('x-api-key-type'))}`);
  const targets = upstreamTargets(request);
  if (targets === null) {
    if (!reach.accountRoutes) problems.push(`account route ${request.url} reached by a ${reach.type} key`);
    if (header('x-chatbot-id') !== undefined) problems.push('X-Chatbot-Id on an account route');
    return problems;
  }
  if (targets.length === 0) problems.push('a chatbot route forwarded without a chatbot id');
  for (const target of targets) {
    if (!reach.chatbots.has(target))
      problems.push(`chatbot ${JSON.stringify(target)} is outside the key's reach (${request.method} ${request.url})`);
    if (header('x-chatbot-id') !== target)
      problems.push(`X-Chatbot-Id ${String(header('x-chatbot-id'))} but a lenient upstream reads ${JSON.stringify(target)}`);
  }
  return problems;
}
