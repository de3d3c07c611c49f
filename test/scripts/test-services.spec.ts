import { describe, expect, it, jest } from '@jest/globals';
import { chooseTestServices, DEFAULT_URLS, environmentUrls, serviceVariables, startTestServices } from '../../scripts/test-services.mjs';

/** Which services a test run uses: containers where an engine answers, else the environment's. */
describe('the test services', () => {
  const engine = (answers: boolean) => jest.fn(async () => answers);

  it('uses containers when a container engine answers and nothing says otherwise', async () => {
    await expect(chooseTestServices({}, engine(true))).resolves.toEqual({ kind: 'containers', reason: 'a container engine answers' });
    await expect(chooseTestServices({ TEST_SERVICES: 'auto' }, engine(true))).resolves.toMatchObject({ kind: 'containers' });
    await expect(chooseTestServices({ TEST_SERVICES: 'containers' }, engine(true))).resolves.toMatchObject({ kind: 'containers' });
  });

  it('falls back to the environment when no engine answers', async () => {
    await expect(chooseTestServices({}, engine(false))).resolves.toEqual({ kind: 'environment', reason: 'no container engine answers' });
  });

  it('uses the environment when told to, without asking for an engine', async () => {
    const answers = engine(true);
    await expect(chooseTestServices({ TEST_SERVICES: 'environment' }, answers)).resolves.toMatchObject({ kind: 'environment' });
    expect(answers).not.toHaveBeenCalled();
  });

  it('refuses containers demanded where no engine answers, and an unknown mode, naming the variable', async () => {
    await expect(chooseTestServices({ TEST_SERVICES: 'containers' }, engine(false))).rejects.toThrow(/TEST_SERVICES=containers/);
    await expect(chooseTestServices({ TEST_SERVICES: 'docker' }, engine(true))).rejects.toThrow(
      'TEST_SERVICES must be one of auto, containers, environment; got "docker"',
    );
  });

  it("names the environment's services, with this machine's as defaults", () => {
    expect(environmentUrls({})).toEqual(DEFAULT_URLS);
    const named = { DATABASE_URL: 'postgres://ci@db:5432/x', REDIS_URL: 'redis://cache:6379', NATS_URL: 'nats://bus:4222' };
    expect(serviceVariables(environmentUrls(named))).toEqual(named);
  });

  it('starts containers only when they are chosen, and hands over their addresses and their stop', async () => {
    const stop = jest.fn(async () => undefined);
    const urls = {
      databaseUrl: 'postgres://postgres:postgres@localhost:32768/postgres',
      redisUrl: 'redis://localhost:32769',
      natsUrl: 'nats://localhost:32770',
    };
    const startContainers = jest.fn(async () => ({ urls, stop }));

    const inContainers = await startTestServices({ env: {}, engineAnswers: engine(true), startContainers });
    expect(inContainers).toMatchObject({ kind: 'containers', urls });
    await inContainers.stop();
    expect(stop).toHaveBeenCalledTimes(1);

    const fromEnvironment = await startTestServices({
      env: { REDIS_URL: 'redis://cache:6379' },
      engineAnswers: engine(false),
      startContainers,
    });
    expect(fromEnvironment).toMatchObject({ kind: 'environment', urls: { ...DEFAULT_URLS, redisUrl: 'redis://cache:6379' } });
    await fromEnvironment.stop();
    expect(startContainers).toHaveBeenCalledTimes(1);
    expect(stop).toHaveBeenCalledTimes(1);
  });
});
