// Where the integration and end-to-end suites find PostgreSQL, Redis and NATS. With a container
// engine (Docker, Podman: whatever testcontainers finds through DOCKER_HOST, its own settings or
// the usual sockets), each run starts throwaway containers of the three; without one, the suites
// use the services named by DATABASE_URL, REDIS_URL and NATS_URL (defaults: this machine's). Either
// way the suites see the same interface: those three variables. TEST_SERVICES picks by hand:
// `auto` (default), `containers` (fail when no engine answers) or `environment`.

export const DEFAULT_URLS = {
  databaseUrl: 'postgres://postgres@127.0.0.1:5432/chatbot_keys',
  redisUrl: 'redis://127.0.0.1:6379',
  natsUrl: 'nats://127.0.0.1:4222',
};

/** The images the containers run: the ones docker-compose.yml deploys. */
export const IMAGES = { postgres: 'postgres:17-alpine', redis: 'redis:7.4-alpine', nats: 'nats:2.11-alpine' };

const MODES = ['auto', 'containers', 'environment'];

/** Whether testcontainers finds a container engine that answers. */
export async function containerEngineAnswers() {
  try {
    const { getContainerRuntimeClient } = await import('testcontainers');
    await getContainerRuntimeClient();
    return true;
  } catch {
    return false;
  }
}

/**
 * `{ kind: 'containers' | 'environment', reason }` from TEST_SERVICES and, unless that says
 * `environment`, whether a container engine answers. A bad TEST_SERVICES, or `containers`
 * without an engine, is an error naming the variable.
 */
export async function chooseTestServices(env = process.env, engineAnswers = containerEngineAnswers) {
  const mode = env.TEST_SERVICES || 'auto';
  if (!MODES.includes(mode)) throw new Error(`TEST_SERVICES must be one of ${MODES.join(', ')}; got "${mode}"`);
  if (mode === 'environment') return { kind: 'environment', reason: 'TEST_SERVICES=environment' };
  if (await engineAnswers()) return { kind: 'containers', reason: 'a container engine answers' };
  if (mode === 'containers') {
    throw new Error('TEST_SERVICES=containers, but no container engine answers (Docker or Podman socket, DOCKER_HOST)');
  }
  return { kind: 'environment', reason: 'no container engine answers' };
}

/** The services the environment names, with this machine's as defaults. */
export function environmentUrls(env = process.env) {
  return {
    databaseUrl: env.DATABASE_URL || DEFAULT_URLS.databaseUrl,
    redisUrl: env.REDIS_URL || DEFAULT_URLS.redisUrl,
    natsUrl: env.NATS_URL || DEFAULT_URLS.natsUrl,
  };
}

/** Starts PostgreSQL, Redis and NATS with JetStream in containers; if one fails, the others are stopped. */
export async function startServiceContainers() {
  const [{ GenericContainer, Wait }, { PostgreSqlContainer }, { RedisContainer }] = await Promise.all([
    import('testcontainers'),
    import('@testcontainers/postgresql'),
    import('@testcontainers/redis'),
  ]);
  // The suites create a database per run and apply the migrations (roles and grants included): the superuser.
  const postgres = new PostgreSqlContainer(IMAGES.postgres).withUsername('postgres').withPassword('postgres').withDatabase('postgres');
  const nats = new GenericContainer(IMAGES.nats)
    .withCommand(['-js'])
    .withExposedPorts(4222)
    .withWaitStrategy(Wait.forLogMessage(/Server is ready/));
  const started = await Promise.allSettled([postgres.start(), new RedisContainer(IMAGES.redis).start(), nats.start()]);
  const containers = started.filter((result) => result.status === 'fulfilled').map((result) => result.value);
  const stop = async () => {
    await Promise.all(containers.map((container) => container.stop()));
  };
  const failed = started.find((result) => result.status === 'rejected');
  if (failed) {
    await stop();
    throw failed.reason;
  }
  const [startedPostgres, startedRedis, startedNats] = containers;
  return {
    urls: {
      databaseUrl: startedPostgres.getConnectionUri(),
      redisUrl: startedRedis.getConnectionUrl(),
      natsUrl: `nats://${startedNats.getHost()}:${startedNats.getMappedPort(4222)}`,
    },
    stop,
  };
}

/**
 * The services a test run uses: `{ kind, reason, urls, stop }`. `stop` removes the containers
 * (the environment's services are left alone).
 */
export async function startTestServices({ env = process.env, engineAnswers, startContainers = startServiceContainers } = {}) {
  const choice = await chooseTestServices(env, engineAnswers);
  if (choice.kind === 'environment') return { ...choice, urls: environmentUrls(env), stop: async () => undefined };
  const containers = await startContainers();
  return { ...choice, urls: containers.urls, stop: containers.stop };
}

/** The variables the suites read, for `urls`. */
export function serviceVariables(urls) {
  return { DATABASE_URL: urls.databaseUrl, REDIS_URL: urls.redisUrl, NATS_URL: urls.natsUrl };
}
