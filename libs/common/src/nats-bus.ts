import { randomUUID } from 'node:crypto';
import {
  connect,
  credsAuthenticator,
  headers as natsHeaders,
  type ConnectionOptions,
  type Msg,
  type NatsConnection,
  type Subscription,
} from '@nats-io/transport-node';
import {
  EventSchemas,
  KEY_EVENTS_STEM,
  RpcSchemas,
  Subjects,
  type EventMap,
  type EventSubject,
  type KeyEventSubject,
  type RpcMap,
  type RpcResult,
  type RpcSubject,
} from '@app/contracts';
import { ApiError } from './api-error.js';
import type { Logger } from './logger.js';
import type { NatsSecurity } from './nats-credentials.js';
import { KeyEventHeaders, KeyEventSequence, readMark, type MissedEventsReason } from './key-event-sequence.js';
import { keyEventsMissed } from './key-event-metrics.js';

export interface NatsBusOptions {
  url: string;
  /** NATS_SUBJECT_PREFIX: `staging` turns `auth.verify` into `staging.auth.verify`. */
  subjectPrefix?: string;
  /** Connection name shown by the server, e.g. the service name. */
  name: string;
  logger: Logger;
  /** Credentials and TLS; none by default (a local development server). */
  security?: NatsSecurity;
}

export interface ServeOptions<S extends RpcSubject> {
  /** What goes on the wire for a handler's result; the internal envelope (`RpcResult`) by default. */
  reply?: (result: RpcResult<RpcMap[S]['reply']>) => unknown;
}

type RpcHandler<S extends RpcSubject> = (request: RpcMap[S]['request']) => Promise<RpcMap[S]['reply']> | RpcMap[S]['reply'];
type EventHandler<S extends EventSubject> = (event: EventMap[S]) => void | Promise<void>;
export type KeyEventHandlers = { [S in KeyEventSubject]?: EventHandler<S> };
export type MissedEventsHandler = (reason: MissedEventsReason) => void;

/** Key event subjects by their wire name, for the one subscription that takes them all. */
const KEY_EVENT_NAMES = new Map<string, KeyEventSubject | 'keyEventsHeartbeat'>(
  Object.entries(Subjects)
    .filter(([, subject]) => subject.startsWith(`${KEY_EVENTS_STEM}.`))
    .map(([name, subject]) => [subject, name as KeyEventSubject | 'keyEventsHeartbeat']),
);

const DEFAULT_TIMEOUT_MS = 2000;

/**
 * The one way services talk over NATS: subjects come from the typed map, payloads
 * are validated where they enter, and the subject prefix is applied in one place.
 */
export class NatsBus {
  private constructor(
    readonly connection: NatsConnection,
    private readonly prefix: string,
    private readonly logger: Logger,
  ) {}

  static async connect(options: NatsBusOptions): Promise<NatsBus> {
    const connection = await connect({
      servers: options.url,
      name: options.name,
      ...securityOptions(options.security),
      // Replies to this service's requests (and its JetStream pulls) arrive under an inbox prefix
      // of its own, so the server's permissions can let it, and only it, read them.
      inboxPrefix: inboxPrefixOf(options.name),
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
      pingInterval: 10_000,
      // Otherwise every request and JetStream publish builds an Error up front to keep its
      // call site (tens of microseconds under load); failures are logged with context here.
      noAsyncTraces: true,
    });
    const bus = new NatsBus(connection, options.subjectPrefix ? `${options.subjectPrefix}.` : '', options.logger);
    bus.watchStatus();
    return bus;
  }

  subject(name: keyof typeof Subjects): string {
    return this.prefix + Subjects[name];
  }

  get connected(): boolean {
    return !this.connection.isClosed() && !this.connection.isDraining() && this.reachable;
  }
  private reachable = true;

  /** Internal request-reply: unwraps the result, turning a remote error back into an ApiError. */
  async request<S extends RpcSubject>(
    subject: S,
    payload: RpcMap[S]['request'],
    timeoutMs = DEFAULT_TIMEOUT_MS,
  ): Promise<RpcMap[S]['reply']> {
    const result = await this.requestRaw<RpcResult<RpcMap[S]['reply']>>(this.subject(subject), payload, timeoutMs);
    if (!result.ok) throw new ApiError(result.error.code, result.error.message);
    return result.data;
  }

  /**
   * A request to a subject served with its own reply shape (`ServeOptions.reply`): the reply is
   * handed back parsed but unread, for the caller's client to validate.
   */
  requestBare<S extends RpcSubject>(subject: S, payload: RpcMap[S]['request'], timeoutMs = DEFAULT_TIMEOUT_MS): Promise<unknown> {
    return this.requestRaw(this.subject(subject), payload, timeoutMs);
  }

  private async requestRaw<T>(subject: string, payload: unknown, timeoutMs: number): Promise<T> {
    // While the connection is known to be down, fail at once: waiting out the timeout would
    // only hold every caller (and its memory) for nothing, and the answer would be the same.
    if (!this.connected) throw new BusUnavailableError(subject, new Error('not connected to NATS'));
    let reply: Msg;
    try {
      reply = await this.connection.request(subject, JSON.stringify(payload), { timeout: timeoutMs });
    } catch (error) {
      throw new BusUnavailableError(subject, error);
    }
    return reply.json<T>();
  }

  /**
   * Answers requests on a subject within a queue group: one replica answers each.
   * Bad payloads get `invalid_request`; unexpected failures are logged and answered
   * `service_unavailable`, never left to crash the subscription.
   */
  serve<S extends RpcSubject>(subject: S, queue: string, handler: RpcHandler<S>, options: ServeOptions<S> = {}): Subscription {
    const schema = RpcSchemas[subject];
    const shape = options.reply ?? ((result: RpcResult<RpcMap[S]['reply']>) => result);
    return this.track(
      this.connection.subscribe(this.subject(subject), {
        queue,
        callback: (error, msg) => {
          if (error) return this.logger.error({ err: error, subject }, 'subscription failed');
          this.handling(this.answer(msg, subject, schema, shape, handler));
        },
      }),
    );
  }

  private async answer<S extends RpcSubject>(
    msg: Msg,
    subject: S,
    schema: (typeof RpcSchemas)[S],
    shape: (result: RpcResult<RpcMap[S]['reply']>) => unknown,
    handler: RpcHandler<S>,
  ): Promise<void> {
    let result: RpcResult<RpcMap[S]['reply']>;
    try {
      const parsed = schema.safeParse(parseJson(msg));
      if (!parsed.success) throw new ApiError('invalid_request', describeIssues(parsed.error.issues));
      result = { ok: true, data: await handler(parsed.data) };
    } catch (error) {
      if (!(error instanceof ApiError)) this.logger.error({ err: error, subject }, 'request handler failed');
      const apiError = error instanceof ApiError ? error : new ApiError('service_unavailable', 'the service could not answer');
      result = { ok: false, error: apiError.toBody() };
    }
    if (msg.reply) msg.respond(JSON.stringify(shape(result)));
  }

  publish<S extends EventSubject>(subject: S, event: EventMap[S]): void {
    this.connection.publish(this.subject(subject), JSON.stringify(event));
  }

  private readonly publisherId = randomUUID();
  private readonly publisherStartedAt = Date.now();
  private keyEventsPublished = 0;

  /**
   * A key event for every gateway and verifier replica, numbered: a replica that sees a number
   * skipped knows it missed an event (see `onKeyEvents`). Whatever the kind, the same numbering.
   */
  publishKeyEvent<S extends KeyEventSubject>(subject: S, event: EventMap[S]): void {
    this.connection.publish(this.subject(subject), JSON.stringify(event), { headers: this.keyEventMark(this.keyEventsPublished + 1) });
    this.keyEventsPublished++;
  }

  /**
   * Announces this publisher's last event number every `intervalMs`: a replica that missed the
   * last event before a quiet spell learns it within that time. Returns the stop function.
   */
  startKeyEventHeartbeat(intervalMs: number): () => void {
    const timer = setInterval(() => {
      if (!this.connected) return;
      try {
        this.connection.publish(this.subject('keyEventsHeartbeat'), '{}', { headers: this.keyEventMark(this.keyEventsPublished) });
      } catch (error) {
        this.logger.warn({ err: error }, 'key event heartbeat not sent');
      }
    }, intervalMs);
    timer.unref();
    return () => clearInterval(timer);
  }

  private keyEventMark(sequence: number) {
    const mark = natsHeaders();
    mark.set(KeyEventHeaders.publisher, this.publisherId);
    mark.set(KeyEventHeaders.sequence, String(sequence));
    mark.set(KeyEventHeaders.started, String(this.publisherStartedAt));
    return mark;
  }

  /**
   * Every key event, on one subscription (so in the order each publisher sent them), to its
   * handler; kinds without a handler still count for the numbering. `onMissed` is called, before
   * the next event is handled, whenever events may have been lost: a reconnect (events published
   * while the connection was down never arrive), a slow-consumer notice, or a skipped number.
   * The caller then stops trusting everything it cached before.
   */
  onKeyEvents(handlers: KeyEventHandlers, onMissed: MissedEventsHandler): Subscription {
    const sequence = new KeyEventSequence(Date.now());
    const missed = (reason: MissedEventsReason) => {
      keyEventsMissed.inc({ reason });
      this.logger.warn({ reason }, 'key events may have been missed: cached answers dropped');
      onMissed(reason);
    };
    const stopWatching = this.watchMissed((reason) => {
      if (reason === 'reconnect') sequence.restart(Date.now());
      missed(reason);
    });
    const prefix = this.prefix;
    const subscription = this.track(
      this.connection.subscribe(`${prefix}${KEY_EVENTS_STEM}.>`, {
        callback: (error, msg) => {
          if (error) return this.logger.error({ err: error, subject: KEY_EVENTS_STEM }, 'subscription failed');
          const name = KEY_EVENT_NAMES.get(msg.subject.slice(prefix.length));
          const mark = msg.headers ? readMark((header) => msg.headers!.get(header)) : null;
          if (mark && sequence.observe(mark, name === 'keyEventsHeartbeat')) missed('gap');
          if (name === undefined || name === 'keyEventsHeartbeat') return;
          this.dispatch(name, msg, handlers[name] as EventHandler<typeof name> | undefined);
        },
      }),
    );
    void subscription.closed.finally(stopWatching);
    return subscription;
  }

  private dispatch<S extends EventSubject>(subject: S, msg: Msg, handler: EventHandler<S> | undefined): void {
    if (!handler) return;
    const parsed = EventSchemas[subject].safeParse(parseJson(msg));
    if (!parsed.success) {
      return this.logger.warn({ subject, problem: describeIssues(parsed.error.issues) }, 'dropped a malformed event');
    }
    this.handling(
      Promise.resolve()
        .then(() => handler(parsed.data as EventMap[S]))
        .catch((err) => this.logger.error({ err, subject }, 'event handler failed')),
    );
  }

  private readonly missedListeners = new Set<MissedEventsHandler>();

  private watchMissed(listener: MissedEventsHandler): () => void {
    this.missedListeners.add(listener);
    return () => this.missedListeners.delete(listener);
  }

  private notifyMissed(reason: MissedEventsReason): void {
    for (const listener of this.missedListeners) listener(reason);
  }

  /** Every replica gets every event (no queue group). Bad events are logged and dropped. */
  on<S extends EventSubject>(subject: S, handler: EventHandler<S>): Subscription {
    return this.track(
      this.connection.subscribe(this.subject(subject), {
        callback: (error, msg) => {
          if (error) return this.logger.error({ err: error, subject }, 'subscription failed');
          this.dispatch(subject, msg, handler);
        },
      }),
    );
  }

  private readonly subscriptions = new Set<Subscription>();
  private readonly inFlight = new Set<Promise<unknown>>();

  private track(subscription: Subscription): Subscription {
    this.subscriptions.add(subscription);
    void subscription.closed.finally(() => this.subscriptions.delete(subscription));
    return subscription;
  }

  private handling(work: Promise<unknown>): void {
    this.inFlight.add(work);
    void work.finally(() => this.inFlight.delete(work));
  }

  /**
   * The first step of shutdown: stop taking requests and events, then wait (at most
   * `timeoutMs`) for the handlers already running, so each is answered while the
   * database and the connection are still open. `close` follows.
   */
  async quiesce(timeoutMs = 10_000): Promise<void> {
    await Promise.allSettled([...this.subscriptions].map((subscription) => subscription.drain()));
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeoutMs);
    });
    await Promise.race([Promise.allSettled([...this.inFlight]), deadline]);
    clearTimeout(timer);
  }

  async close(): Promise<void> {
    if (this.connection.isClosed()) return;
    try {
      await this.connection.drain();
    } catch {
      await this.connection.close();
    }
  }

  private watchStatus(): void {
    void (async () => {
      for await (const status of this.connection.status()) {
        if (status.type === 'disconnect') {
          this.reachable = false;
          this.logger.warn({ server: status.server }, 'NATS disconnected');
        } else if (status.type === 'reconnect') {
          this.reachable = true;
          this.logger.info({ server: status.server }, 'NATS reconnected');
          this.notifyMissed('reconnect');
        } else if (status.type === 'slowConsumer' || (status.type === 'error' && /slow consumer/i.test(status.error.message))) {
          this.notifyMissed('slow_consumer');
        }
      }
    })();
  }
}

/** Where a service's replies (and JetStream pulls) arrive: `_INBOX_<connection name>`. */
export function inboxPrefixOf(serviceName: string): string {
  return `_INBOX_${serviceName}`;
}

function securityOptions(security: NatsSecurity | undefined): Partial<ConnectionOptions> {
  if (!security) return {};
  const { auth, tls } = security;
  const credentials: Partial<ConnectionOptions> =
    auth.kind === 'password'
      ? { user: auth.user, pass: auth.password }
      : auth.kind === 'token'
        ? { token: auth.token }
        : auth.kind === 'creds'
          ? { authenticator: credsAuthenticator(auth.creds) }
          : {};
  return { ...credentials, ...(tls && { tls }) };
}

export class BusUnavailableError extends Error {
  constructor(
    readonly subject: string,
    cause: unknown,
  ) {
    super(`no answer on ${subject}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}

function parseJson(msg: Msg): unknown {
  try {
    return msg.json();
  } catch {
    return undefined;
  }
}

/**
 * An unknown field's name is whatever the sender typed, a pasted API key included. Names shorter
 * than any key (every key format is 20 characters or more) are quoted; longer ones only counted.
 */
function unknownFields(names: unknown[]): string {
  const quotable = names.filter((name): name is string => typeof name === 'string' && name.length < 20);
  const quoted = quotable.map((name) => JSON.stringify(name));
  const others = names.length - quotable.length;
  return `unknown field(s): ${[...quoted, ...(others ? [`${others} more`] : [])].join(', ')}`;
}

export function describeIssues(issues: { path: PropertyKey[]; message: string; code?: string; keys?: unknown[] }[]): string {
  return issues
    .slice(0, 5)
    .map((issue) => {
      const message = issue.code === 'unrecognized_keys' ? unknownFields(issue.keys ?? []) : issue.message;
      return issue.path.length ? `${issue.path.map(String).join('.')}: ${message}` : message;
    })
    .join('; ');
}
