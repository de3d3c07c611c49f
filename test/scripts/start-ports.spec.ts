import { resolvePorts, SERVICES } from '../../scripts/system.mjs';

/** `npm start` (scripts/start.mjs) and the test harness start services on the ports resolvePorts gives. */
describe('the quick start honours every port variable', () => {
  const variables = SERVICES.flatMap((service) => [
    [service.name, service.portVariable, service.port] as const,
    ...(service.metricsPortVariable ? [[`${service.name}-metrics`, service.metricsPortVariable, service.metricsPort!] as const] : []),
  ]);

  it('uses the documented defaults when nothing is set', () => {
    const ports = resolvePorts({});
    expect(ports).toMatchObject({
      gateway: 8080,
      'gateway-metrics': 8084,
      'key-management': 8081,
      'auth-verifier': 8082,
      'usage-tracker': 8083,
      'demo-upstream': 8090,
    });
  });

  it.each(variables)('%s takes %s from the environment', (name, variable) => {
    expect(resolvePorts({ [variable]: '19123' })[name]).toBe(19123);
  });

  it('moves every service at once, so two systems can run side by side', () => {
    const env = Object.fromEntries(variables.map(([, variable], index) => [variable, String(19200 + index)]));
    const ports = resolvePorts(env);
    expect(variables.map(([name]) => ports[name])).toEqual(variables.map((_, index) => 19200 + index));
  });

  it('prefers a port asked for explicitly (the harness) over the environment', () => {
    expect(resolvePorts({ GATEWAY_PORT: '9000' }, { gateway: 19999 }).gateway).toBe(19999);
  });

  it.each(['abc', '0', '70000', '80.5', '-1'])('refuses GATEWAY_PORT=%s, naming the variable', (value) => {
    expect(() => resolvePorts({ GATEWAY_PORT: value })).toThrow(/GATEWAY_PORT/);
  });
});
