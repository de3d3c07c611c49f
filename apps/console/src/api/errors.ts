/** An API error, with what it means for the person in front of the page. */
export class ApiProblem extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly detail: string,
    readonly requestId: string | null,
  ) {
    super(plainWords(code, detail));
  }
}

const PLAIN: Record<string, string> = {
  missing_api_key: 'You are not signed in. Sign in again.',
  invalid_api_key: 'That key is not valid: it may be mistyped, revoked or expired.',
  invalid_token: 'Your sign-in has expired or was not accepted. Sign in again.',
  insufficient_scope: 'That is a chatbot key. The console needs a user-level key (it starts with usk_) or SSO.',
  plan_not_eligible:
    "Your account is on the Free plan, which doesn't include chatbot keys. Upgrade to Entry, Standard or Professional to create them.",
  forbidden: "Your role doesn't allow this. Ask an owner or admin of your account.",
  not_found: 'That page or item no longer exists.',
  chatbot_not_found: "That chatbot doesn't exist, or you don't have access to it.",
  key_not_found: 'That key no longer exists: it may have been revoked already.',
  key_limit_reached: 'This chatbot already has 10 active keys, the most allowed. Revoke one to create another.',
  key_expired: 'That key has already expired.',
  rate_limited: 'Too many attempts. Wait a minute and try again.',
  auth_unavailable: "We couldn't check your credentials just now. Try again in a moment.",
  payload_too_large: 'That is too long.',
  internal_error: 'Something went wrong on our side. Try again.',
};

export function plainWords(code: string, detail: string): string {
  if (code === 'invalid_request') return `That didn't work: ${detail}.`;
  if (code === 'network') return "The server can't be reached. Check your connection and try again.";
  return PLAIN[code] ?? `Something went wrong (${code}). Try again.`;
}

/** The words to show for anything thrown by an API call. */
export function messageOf(error: unknown): string {
  if (error instanceof ApiProblem) return error.message;
  return plainWords('network', '');
}
