import type { Credential } from '../api/client';

/** Who is signed in, as this tab knows it. */
export interface Session extends Credential {
  /** What the header shows: the key's prefix, or the SSO user's name or email. */
  label: string;
  /** For SSO: when the token stops being accepted (epoch ms). */
  expiresAt?: number;
}

/**
 * sessionStorage, never localStorage: the credential lives only as long as this tab, is not
 * shared with other tabs, and sign-out removes it.
 */
const STORAGE_KEY = 'chatbot-keys.session';

export function loadSession(): Session | null {
  try {
    const stored = JSON.parse(sessionStorage.getItem(STORAGE_KEY) ?? 'null') as Session | null;
    if (!stored || typeof stored.token !== 'string') return null;
    if (stored.expiresAt !== undefined && stored.expiresAt <= Date.now()) {
      clearSession();
      return null;
    }
    return stored;
  } catch {
    return null;
  }
}

export function saveSession(session: Session): void {
  sessionStorage.setItem(STORAGE_KEY, JSON.stringify(session));
}

export function clearSession(): void {
  sessionStorage.removeItem(STORAGE_KEY);
}

/** The first 12 characters, as the API lists keys: enough to recognise it, useless to an onlooker. */
export function keyLabel(key: string): string {
  return `${key.slice(0, 12)}…`;
}
