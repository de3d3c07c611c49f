import type { Manifest } from './deploy-files.js';

interface ModelClass {
  new (data: Manifest): { validate(): void };
}

/**
 * Module path of the validators for an apiVersion: `v1` → kubernetes-models/v1, `apps/v1` →
 * kubernetes-models/apps/v1; the Prometheus Operator's resources (PodMonitor, PrometheusRule)
 * from @kubernetes-models/prometheus-operator.
 */
const modulePath = (apiVersion: string) =>
  apiVersion.startsWith('monitoring.coreos.com/')
    ? `@kubernetes-models/prometheus-operator/${apiVersion}`
    : `kubernetes-models/${apiVersion}`;

/**
 * Validates one object against the Kubernetes OpenAPI schema of its apiVersion and kind
 * (kubernetes-models' generated validators). An apiVersion or kind it does not know is an
 * error too: a typo there is what `kubectl apply` would reject first.
 */
export async function validateManifest(manifest: Manifest): Promise<void> {
  const { apiVersion, kind, metadata } = manifest;
  const where = `${apiVersion}/${kind} ${metadata?.name ?? '(no name)'}`;
  if (typeof apiVersion !== 'string' || typeof kind !== 'string') throw new Error(`${where}: apiVersion and kind are required`);
  let models: Record<string, ModelClass | undefined>;
  try {
    models = (await import(modulePath(apiVersion))) as Record<string, ModelClass | undefined>;
  } catch {
    throw new Error(`${where}: unknown apiVersion`);
  }
  const Model = models[kind];
  if (!Model) throw new Error(`${where}: unknown kind for ${apiVersion}`);
  if (!metadata?.name) throw new Error(`${where}: metadata.name is required`);
  try {
    new Model(manifest).validate();
  } catch (error) {
    throw new Error(`${where}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
}
