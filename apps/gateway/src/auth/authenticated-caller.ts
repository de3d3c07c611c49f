import type { VerifiedKey } from '@app/contracts';

/**
 * Who a data-plane or management request comes from, once its key or SSO token is verified.
 * Management routes turn this into an `Actor` for key-management.
 */
export type AuthenticatedCaller = { kind: 'key'; key: VerifiedKey } | { kind: 'sso'; subject: string };
