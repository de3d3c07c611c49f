import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { Actor } from '@app/contracts';

const ACTOR = Symbol('management actor');
type ActorCarrier = { [ACTOR]?: Actor };

/** Set by ManagementAuthGuard once the caller is authenticated. */
export function attachActor(request: object, actor: Actor): void {
  (request as ActorCarrier)[ACTOR] = actor;
}

export function actorOf(request: object): Actor {
  const actor = (request as ActorCarrier)[ACTOR];
  // A route reading the actor without the guard in front of it is a programming error, never a caller's.
  if (!actor) throw new Error('management route without ManagementAuthGuard');
  return actor;
}

/** The authenticated caller of a management route, as key-management's `Actor`. */
export const CurrentActor = createParamDecorator((_data: unknown, context: ExecutionContext): Actor =>
  actorOf(context.switchToHttp().getRequest<object>()),
);
