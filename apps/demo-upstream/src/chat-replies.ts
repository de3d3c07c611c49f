/** The headers the gateway sets from the verified key; the demo echoes them so a caller can see what arrived. */
export const TRUSTED_HEADERS = ['x-account-id', 'x-chatbot-id', 'x-api-key-id', 'x-api-key-type', 'x-user-id', 'x-request-id'] as const;

export function trustedHeadersOf(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const seen: Record<string, string> = {};
  for (const name of TRUSTED_HEADERS) {
    const value = headers[name];
    if (typeof value === 'string') seen[name] = value;
  }
  return seen;
}

/** A canned answer, split into words so it can be streamed. */
export function replyTo(message: string): string[] {
  const topic = message.trim().slice(0, 80) || 'nothing';
  return `You said: ${topic}. This is the demo chatbot answering through the gateway.`.split(' ');
}
