import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { SERVICES } from '../../scripts/system.mjs';
import { CONFIG_LOADERS, testSecretValue } from './app-configs.js';
import {
  containerEnvironment,
  dataOf,
  K8S,
  objectId,
  parseYamlDocuments,
  podSpecOf,
  render,
  secretsIn,
  workloads,
  type Manifest,
  type SecretValue,
} from './deploy-files.js';
import { validateManifest } from './kubernetes-schemas.js';

const OVERLAYS = ['dev', 'prod'];
const rendered = Object.fromEntries(OVERLAYS.map((overlay) => [overlay, render(join(K8S, 'overlays', overlay))]));
const base = render(join(K8S, 'base'));

const named = (objects: Manifest[], kind: string, name: string) =>
  objects.find((object) => object.kind === kind && object.metadata.name === name);
const appWorkloads = (objects: Manifest[]) =>
  workloads(objects).filter((workload) => workload.spec.template.metadata.labels['app.kubernetes.io/part-of'] === 'chatbot-keys');

function environments(objects: Manifest[], secretValue: SecretValue) {
  return appWorkloads(objects).map((workload) => ({
    name: workload.metadata.name as string,
    environment: containerEnvironment(podSpecOf(workload).containers[0], objects, secretValue),
  }));
}

describe.each(OVERLAYS)('k8s/overlays/%s, rendered', (overlay) => {
  const objects = rendered[overlay];

  it('validates against the Kubernetes schemas after its patches, all in its own namespace', async () => {
    for (const object of objects) await validateManifest(object);
    const namespaces = objects.filter((object) => object.kind === 'Namespace');
    expect(namespaces).toHaveLength(1);
    for (const object of objects.filter((candidate) => candidate.kind !== 'Namespace')) {
      expect(object.metadata.namespace).toBe(namespaces[0].metadata.name);
    }
  });

  it('deploys the migration Job and every service but, in prod, the demo upstream', () => {
    const names = appWorkloads(objects).map((workload) => workload.metadata.name).sort();
    const services = SERVICES.map((service) => service.name).filter((name) => overlay === 'dev' || name !== 'demo-upstream');
    expect(names).toEqual([...services, 'migrate'].sort());
  });
});

describe('k8s/overlays/dev', () => {
  const objects = rendered.dev;
  const config = dataOf(named(objects, 'ConfigMap', 'chatbot-keys-config')!);
  const secret = dataOf(named(objects, 'Secret', 'chatbot-keys-secrets')!);

  it('is self-contained: every service starts with the dev Secret as it is, no stand-in values', () => {
    for (const { name, environment } of environments(objects, secretsIn(objects))) {
      expect(() => CONFIG_LOADERS[name](environment)).not.toThrow();
    }
    expect(Object.values(secret)).not.toContain('REPLACE-ME');
  });

  it('runs PostgreSQL, Redis and NATS (JetStream on a volume) behind the host names the services use', () => {
    const urls = [config.NATS_URL, secret.REDIS_URL, secret.DATABASE_URL].map((url) => new URL(url));
    for (const url of urls) {
      const service = named(objects, 'Service', url.hostname);
      expect({ host: url.hostname, port: service?.spec.ports.map((port: Manifest) => port.port) }).toEqual({
        host: url.hostname,
        port: expect.arrayContaining([Number(url.port)]),
      });
    }
    const postgres = podSpecOf(named(objects, 'StatefulSet', 'postgres')!).containers[0];
    const postgresEnvironment = containerEnvironment(postgres, objects, secretsIn(objects));
    const databaseUrl = new URL(secret.DATABASE_URL);
    expect(postgresEnvironment.POSTGRES_PASSWORD).toBe(decodeURIComponent(databaseUrl.password));
    expect(`/${postgresEnvironment.POSTGRES_DB}`).toBe(databaseUrl.pathname);
    const nats = named(objects, 'StatefulSet', 'nats')!;
    const args: string[] = podSpecOf(nats).containers[0].args;
    expect(args).toEqual(expect.arrayContaining(['-js', '-sd']));
    const store = podSpecOf(nats).containers[0].volumeMounts.find((mount: Manifest) => mount.mountPath === args[args.indexOf('-sd') + 1]);
    expect(nats.spec.volumeClaimTemplates.map((claim: Manifest) => claim.metadata.name)).toContain(store.name);
  });

  it('uses the admin token of the local quick start, so the README walk-through works after a port-forward', () => {
    expect(secret.ADMIN_TOKEN).toBe('local-dev-admin-token');
  });
});

describe('k8s/overlays/prod', () => {
  const objects = rendered.prod;
  // The Secret and CloudNativePG's app secret exist out of band: stand-ins for their values.
  const outOfBand: SecretValue = (secret, key, variable) => {
    expect(['chatbot-keys-secrets', 'chatbot-keys-pg-app']).toContain(secret);
    return secret === 'chatbot-keys-pg-app' && key === 'uri' ? testSecretValue('DATABASE_URL') : testSecretValue(variable);
  };

  it('ships no Secret, so applying it never overwrites the real one', () => {
    expect(objects.filter((object) => object.kind === 'Secret')).toEqual([]);
  });

  it("starts every service with its config loader's approval, against operator-run dependencies", () => {
    for (const { name, environment } of environments(objects, outOfBand)) {
      expect(() => CONFIG_LOADERS[name](environment)).not.toThrow();
      expect(JSON.stringify(environment)).not.toMatch(/demo-upstream|REPLACE-ME/);
      if (environment.DATABASE_URL) expect(environment.DATABASE_URL).toBe(testSecretValue('DATABASE_URL'));
    }
    const config = dataOf(named(objects, 'ConfigMap', 'chatbot-keys-config')!);
    expect(new URL(config.NATS_URL).hostname).toMatch(/\.svc\.cluster\.local$/);
  });

  it('takes DATABASE_URL from the CloudNativePG app secret in every workload that reads it', () => {
    const readers = appWorkloads(objects).filter((workload) =>
      (podSpecOf(workload).containers[0].env ?? []).some((variable: Manifest) => variable.name === 'DATABASE_URL'),
    );
    expect(readers.map((workload) => workload.metadata.name).sort()).toEqual(['key-management', 'migrate', 'usage-tracker']);
    for (const workload of readers) {
      const variable = podSpecOf(workload).containers[0].env.find((candidate: Manifest) => candidate.name === 'DATABASE_URL');
      expect(variable.valueFrom.secretKeyRef).toEqual({ name: 'chatbot-keys-pg-app', key: 'uri' });
    }
  });

  it('runs more replicas than the base', () => {
    for (const name of ['key-management', 'usage-tracker']) {
      expect(named(objects, 'Deployment', name)!.spec.replicas).toBeGreaterThan(named(base, 'Deployment', name)!.spec.replicas);
    }
    for (const name of ['gateway', 'auth-verifier']) {
      const hpa = named(objects, 'HorizontalPodAutoscaler', name)!;
      expect(hpa.spec.minReplicas).toBeGreaterThan(named(base, 'HorizontalPodAutoscaler', name)!.spec.minReplicas);
    }
  });

  it('admits to the CloudNativePG cluster only its own instances, the operator, monitoring and the postgres clients', () => {
    const policy = named(objects, 'NetworkPolicy', 'postgres-ingress-cnpg')!;
    const clients = appWorkloads(objects)
      .filter((workload) =>
        policy.spec.ingress.some((rule: Manifest) =>
          rule.from.some((peer: Manifest) =>
            Object.entries(peer.podSelector?.matchLabels ?? { none: 'none' }).every(
              ([key, value]) => workload.spec.template.metadata.labels[key] === value,
            ),
          ),
        ),
      )
      .map((workload) => workload.metadata.name)
      .sort();
    expect(clients).toEqual(['key-management', 'migrate', 'usage-tracker']);
    expect(objects.filter((object) => object.kind === 'NetworkPolicy').map((object) => object.metadata.name)).not.toEqual(
      expect.arrayContaining(['postgres-ingress']),
    );
  });
});

const kubectl = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' });
const withKubectl = kubectl.error ? describe.skip : describe;

/** Checks the reader above against the real kustomize where kubectl is installed. */
withKubectl('kubectl kustomize', () => {
  it.each(OVERLAYS)('renders k8s/overlays/%s to the same objects and container environments as this reader', (overlay) => {
    const result = spawnSync('kubectl', ['kustomize', join(K8S, 'overlays', overlay)], { encoding: 'utf8' });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    const objects = parseYamlDocuments(result.stdout).filter(Boolean);
    const ids = (list: Manifest[]) => list.map((object) => `${object.metadata.namespace}/${objectId(object)}`).sort();
    expect(ids(objects)).toEqual(ids(rendered[overlay]));
    const standIn: SecretValue = (secret, key, variable) => secretsIn(objects)(secret, key, variable) ?? `stand-in:${secret}/${key}`;
    const byName = (list: ReturnType<typeof environments>) => Object.fromEntries(list.map(({ name, environment }) => [name, environment]));
    const secretsOfReader: SecretValue = (secret, key, variable) =>
      secretsIn(rendered[overlay])(secret, key, variable) ?? `stand-in:${secret}/${key}`;
    expect(byName(environments(objects, standIn))).toEqual(byName(environments(rendered[overlay], secretsOfReader)));
  });
});
