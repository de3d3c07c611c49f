import { register as globalRegistry, type Metric, type Registry } from 'prom-client';

/**
 * The metric named `name` in `registry`, created by `create` the first time: tests and the
 * in-process system start several apps in one process, and prom-client refuses a second
 * registration of the same name.
 */
export function registeredMetric<T extends Metric>(name: string, create: () => T, registry: Registry = globalRegistry): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? create();
}
