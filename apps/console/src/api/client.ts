import { ApiProblem } from './errors';

export type Credential = { kind: 'key' | 'sso'; token: string };

/**
 * Calls /v1 with the signed-in caller's credential, always in the Authorization header:
 * never in a URL, where it would end up in history and logs.
 */
export class ApiClient {
  constructor(
    private readonly credential: Credential,
    private readonly onSignedOut: (reason: string) => void,
  ) {}

  get<T>(path: string): Promise<T> {
    return this.call<T>('GET', path);
  }
  post<T>(path: string, body: unknown): Promise<T> {
    return this.call<T>('POST', path, body);
  }
  patch<T>(path: string, body: unknown): Promise<T> {
    return this.call<T>('PATCH', path, body);
  }
  delete(path: string): Promise<void> {
    return this.call<void>('DELETE', path);
  }

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    let response: Response;
    try {
      response = await fetch(path, {
        method,
        headers: {
          authorization: `Bearer ${this.credential.token}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        cache: 'no-store',
        credentials: 'omit',
      });
    } catch {
      throw new ApiProblem(0, 'network', '', null);
    }
    if (response.status === 204) return undefined as T;
    const payload = (await response.json().catch(() => null)) as { error?: { code?: string; message?: string; requestId?: string } } | null;
    if (response.ok) return payload as T;
    const error = payload?.error ?? {};
    const problem = new ApiProblem(
      response.status,
      error.code ?? 'internal_error',
      error.message ?? response.statusText,
      error.requestId ?? null,
    );
    // A credential the gateway no longer accepts is forgotten at once.
    if (response.status === 401) this.onSignedOut(problem.message);
    throw problem;
  }
}
