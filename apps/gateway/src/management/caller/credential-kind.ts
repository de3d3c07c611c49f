const SEGMENT = /^[A-Za-z0-9_-]+$/;

/**
 * Whether a bearer credential is a JWT (an SSO token) rather than an API key.
 *
 * Three dot-separated base64url segments alone would also match some legacy keys
 * (any 20–256 printable characters), so the first segment must also decode to a JOSE
 * header: a JSON object naming its `alg`. No API key shape can satisfy that by accident.
 */
export function isJwtShaped(credential: string): boolean {
  const segments = credential.split('.');
  if (segments.length !== 3) return false;
  const [header, payload, signature] = segments;
  if (!SEGMENT.test(header) || !SEGMENT.test(payload) || !(signature === '' || SEGMENT.test(signature))) return false;
  try {
    const decoded: unknown = JSON.parse(Buffer.from(header, 'base64url').toString('utf8'));
    return typeof decoded === 'object' && decoded !== null && typeof (decoded as { alg?: unknown }).alg === 'string';
  } catch {
    return false;
  }
}
