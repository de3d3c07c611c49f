import type { Role } from '@app/contracts';

/** The user behind a management call, as the database says now (role and account). */
export interface ResolvedActor {
  userId: string;
  accountId: string;
  role: Role;
}

/** Owners and admins act on the whole account; members only on their assigned chatbots. */
export function actsOnWholeAccount(actor: ResolvedActor): boolean {
  return actor.role === 'owner' || actor.role === 'admin';
}
