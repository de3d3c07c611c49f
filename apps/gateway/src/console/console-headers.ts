/**
 * Headers on every console answer. The page runs only its own bundled script and stylesheet
 * (no inline code, no eval), talks only to this origin and the OpenID provider, and may not be
 * framed: a framed key page could be clickjacked into revealing or revoking keys.
 */
export function consoleSecurityHeaders(oidcIssuer: string | undefined): Record<string, string> {
  const connect = ["'self'", ...(oidcIssuer ? [new URL(oidcIssuer).origin] : [])].join(' ');
  const policy = [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    `connect-src ${connect}`,
    "manifest-src 'self'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
  return {
    'content-security-policy': policy,
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    // No key page address (with its chatbot or key ids) leaks to the OpenID provider or anywhere else.
    'referrer-policy': 'no-referrer',
    'cross-origin-opener-policy': 'same-origin',
    'cross-origin-resource-policy': 'same-origin',
  };
}
