import {
  connect,
  credsAuthenticator,
  type ConnectionOptions,
  type Msg,
  type MsgHdrs,
  type NatsConnection,
  type Subscription,
} from '@nats-io/transport-node';
import {
  EventSchemas,
  RpcSchemas,
  Subjects,
  type EventMap,
  type EventSubject,
  type RpcMap,
  type RpcResult,
  type RpcSubject,
} from '@app/contracts';
import { ApiError } from './api-error.js';
import type { Logger } from './logger.js';
import type { NatsSecurity } from './nats-credentials.js';

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
export type EventHandler<S extends EventSubject> = (event: EventMap[S]) => void | Promise<void>;

/**
 * Why messages published to this service may never have arrived: the connection was down
 * (`reconnect`: what was published meanwhile is gone), or the server dropped some because this
 * client read too slowly (`slow_consumer`).
 */
export type DeliveryGapReason = 'reconnect' | 'slow_consumer';

const DEFAULT_TIMEOUT_MS = 2000;

/**
 * The one way services talk over NATS: subjects come from the typed map, payloads
 * are validated where they enter, and the subject prefix is applied in one place.
 * It knows no subject by name: what a subject means lives with the code that uses it.
 */
export class NatsBus {
  private constructor(
    readonly connection: NatsConnection,
    private readonly prefix: string,
    /** The service's logger, for those reading messages off this bus. */
    readonly logger: Logger,
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

  /** `headers` travel with the event, for subscribers that read them (`subscribeUnder`). */
  publish<S extends EventSubject>(subject: S, event: EventMap[S], headers?: MsgHdrs): void {
    this.connection.publish(this.subject(subject), JSON.stringify(event), headers && { headers });
  }

  /**
   * Every message under `stem` (`<stem>.>`), on one subscription, so in the order each publisher
   * sent them; `receive` gets each one's subject without the prefix. Handing a message to its
   * handler is then `deliver`'s job.
   */
  subscribeUnder(stem: string, receive: (subject: string, msg: Msg) => void): Subscription {
    const prefix = this.prefix;
    return this.track(
      this.connection.subscribe(`${prefix}${stem}.>`, {
        callback: (error, msg) => {
          if (error) return this.logger.error({ err: error, subject: stem }, 'subscription failed');
          receive(msg.subject.slice(prefix.length), msg);
        },
      }),
    );
  }

  /**
   * An event to its handler, as `on` does: a malformed one is logged and dropped, a failing
   * handler logged; shutdown waits for the handler (`quiesce`).
   */
  deliver<S extends EventSubject>(subject: S, msg: Msg, handler: EventHandler<S>): void {
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

  /** Calls `listener` whenever messages may have been lost on the way here (see DeliveryGapReason). Returns the stop function. */
  onDeliveryGap(listener: (reason: DeliveryGapReason) => void): () => void {
    this.gapListeners.add(listener);
    return () => this.gapListeners.delete(listener);
  }

  private readonly gapListeners = new Set<(reason: DeliveryGapReason) => void>();

  private notifyGap(reason: DeliveryGapReason): void {
    for (const listener of this.gapListeners) listener(reason);
  }

  /** Every replica gets every event (no queue group). Bad events are logged and dropped. */
  on<S extends EventSubject>(subject: S, handler: EventHandler<S>): Subscription {
    return this.track(
      this.connection.subscribe(this.subject(subject), {
        callback: (error, msg) => {
          if (error) return this.logger.error({ err: error, subject }, 'subscription failed');
          this.deliver(subject, msg, handler);
        },
      }),
    );
  }

  private readonly subscriptions = new Set<Subscription>();
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly consumerStops = new Set<() => Promise<void>>();

  /**
   * A consumer the bus does not subscribe for it (a JetStream pull consumer) stops with the
   * subscriptions at shutdown: `quiesce` calls `stop` once and waits until it has finished what it
   * holds, however long that takes.
   */
  stopAtQuiesce(stop: () => Promise<void>): void {
    this.consumerStops.add(stop);
  }

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
   * The first step of shutdown: stop taking requests and events (and stop the consumers given to
   * `stopAtQuiesce`), then wait (at most `timeoutMs`) for the handlers already running, so each is
   * answered while the database and the connection are still open. `close` follows.
   */
  async quiesce(timeoutMs = 10_000): Promise<void> {
    const stops = [...this.consumerStops];
    this.consumerStops.clear();
    await Promise.allSettled([
      ...[...this.subscriptions].map((subscription) => subscription.drain()),
      ...stops.map((stop) => stop().catch((err: unknown) => this.logger.error({ err }, 'a consumer did not stop cleanly'))),
    ]);
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
          this.notifyGap('reconnect');
        } else if (status.type === 'slowConsumer' || (status.type === 'error' && /slow consumer/i.test(status.error.message))) {
          this.notifyGap('slow_consumer');
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
