import { accessSync, constants, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { SERVICES } from '../../scripts/system.mjs';
import { CONFIG_LOADERS, testSecretValue } from './app-configs.js';
import {
  containerEnvironment,
  dataOf,
  K8S,
  KUBECTL,
  kustomize,
  podSpecOf,
  ROOT,
  secretsIn,
  workloads,
  type Manifest,
  type SecretValue,
} from './deploy-files.js';
import { validateManifest } from './kubernetes-schemas.js';

const OVERLAYS = ['dev', 'prod'];
const describeRendered = KUBECTL ? describe : describe.skip;
const rendered: Record<string, Manifest[]> = Object.fromEntries(
  OVERLAYS.map((overlay) => [overlay, KUBECTL ? kustomize(join(K8S, 'overlays', overlay)) : []]),
);
const base = KUBECTL ? kustomize(join(K8S, 'base')) : [];

const configMapOf = (objects: Manifest[]) =>
  objects.find((object) => object.kind === 'ConfigMap' && /^chatbot-keys-config-/.test(object.metadata.name))!;
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

describeRendered.each(OVERLAYS)('k8s/overlays/%s, rendered by kubectl kustomize', (overlay) => {
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
    const names = appWorkloads(objects)
      .map((workload) => workload.metadata.name)
      .sort();
    const services = SERVICES.map((service) => service.name).filter((name) => overlay === 'dev' || name !== 'demo-upstream');
    expect(names).toEqual([...services, 'migrate'].sort());
  });
});

describeRendered('k8s/overlays/dev', () => {
  const objects = rendered.dev;
  const config = dataOf(configMapOf(objects));
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

describeRendered('k8s/overlays/prod', () => {
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
    const config = dataOf(configMapOf(objects));
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

// ---- what a first deploy needs, in both overlays ---------------------------------------------

const labelsMatch = (selector: Record<string, string> = {}, labels: Record<string, string> = {}) =>
  Object.entries(selector).every(([key, value]) => labels[key] === value);
const podLabels = (workload: Manifest): Record<string, string> => workload.spec.template.metadata?.labels ?? {};
const deployments = (objects: Manifest[]) => appWorkloads(objects).filter((workload) => workload.kind === 'Deployment');

/** A destination pod: its labels and namespace (another namespace's, or this overlay's own). */
interface Destination {
  labels: Record<string, string>;
  namespace?: string;
}

/**
 * Whether the NetworkPolicies let pods with `from`'s labels open TCP `port` on `to`: egress
 * is allowed when no policy selecting the pod restricts egress, or when one of their rules
 * names the destination (pod/namespace selectors, or none) and the port.
 */
function egressAllowed(objects: Manifest[], from: Record<string, string>, to: Destination, port: number, protocol = 'TCP'): boolean {
  const policies = objects.filter(
    (object) =>
      object.kind === 'NetworkPolicy' &&
      object.spec.policyTypes?.includes('Egress') &&
      labelsMatch(object.spec.podSelector.matchLabels, from),
  );
  if (!policies.length) return true;
  const ownNamespace = objects.find((object) => object.kind === 'Namespace')?.metadata.name;
  const namespace = to.namespace ?? ownNamespace;
  return policies.some((policy) =>
    (policy.spec.egress ?? []).some((rule: Manifest) => {
      const portOk =
        !rule.ports || rule.ports.some((candidate: Manifest) => candidate.port === port && (candidate.protocol ?? 'TCP') === protocol);
      const peerOk =
        !rule.to ||
        rule.to.some((peer: Manifest) => {
          if (peer.ipBlock) return false;
          const namespaceOk = peer.namespaceSelector
            ? labelsMatch(peer.namespaceSelector.matchLabels, { 'kubernetes.io/metadata.name': namespace ?? '' })
            : namespace === ownNamespace;
          return namespaceOk && (!peer.podSelector || labelsMatch(peer.podSelector.matchLabels, to.labels));
        });
      return portOk && peerOk;
    }),
  );
}

describeRendered.each(OVERLAYS)('k8s/overlays/%s: a first deploy that works', (overlay) => {
  const objects = rendered[overlay];

  it('spreads every Deployment over nodes (and zones), selecting its own pods', () => {
    for (const deployment of deployments(objects)) {
      const constraints: Manifest[] = podSpecOf(deployment).topologySpreadConstraints ?? [];
      const byHost = constraints.find((constraint) => constraint.topologyKey === 'kubernetes.io/hostname');
      const name = deployment.metadata.name;
      expect({ name, spreadOverNodes: Boolean(byHost) }).toEqual({ name, spreadOverNodes: true });
      expect(labelsMatch(byHost!.labelSelector.matchLabels, podLabels(deployment))).toBe(true);
      expect(constraints.map((constraint) => constraint.topologyKey)).toContain('topology.kubernetes.io/zone');
    }
  });

  it('starts key-management and usage-tracker only after the migrations, waiting with their own image and database', () => {
    const job = named(objects, 'Job', 'migrate')!;
    expect(podSpecOf(job).containers[0].args ?? podSpecOf(job).containers[0].command).toBeUndefined();
    for (const name of ['key-management', 'usage-tracker']) {
      const pod = podSpecOf(named(objects, 'Deployment', name)!);
      const [wait] = pod.initContainers ?? [];
      expect(wait?.command).toEqual(['node', `dist/apps/${name}/src/database/migrate.js`, '--wait']);
      expect(wait.image).toBe(pod.containers[0].image);
      const databaseUrl = (container: Manifest) => container.env.find((variable: Manifest) => variable.name === 'DATABASE_URL').valueFrom;
      expect(databaseUrl(wait)).toEqual(databaseUrl(pod.containers[0]));
      expect(databaseUrl(wait)).toEqual(databaseUrl(podSpecOf(job).containers[0]));
      expect(wait.envFrom).toEqual(pod.containers[0].envFrom);
    }
  });

  it('rolls the pods on a config change: the ConfigMap is generated with a hash in its name, which every pod names', () => {
    const config = configMapOf(objects);
    expect(config.metadata.name).toMatch(/^chatbot-keys-config-[a-z0-9]{10}$/);
    for (const workload of appWorkloads(objects)) {
      const pod = podSpecOf(workload);
      for (const container of [...(pod.initContainers ?? []), ...pod.containers]) {
        for (const source of container.envFrom ?? []) expect(source.configMapRef.name).toBe(config.metadata.name);
      }
    }
  });

  it('denies egress by default and opens only what each service talks to', () => {
    expect(named(objects, 'NetworkPolicy', 'default-deny-egress')!.spec).toEqual({ podSelector: {}, policyTypes: ['Egress'] });
    const pod = (name: string) => podLabels(appWorkloads(objects).find((workload) => workload.metadata.name === name)!);
    const dns = { labels: { 'k8s-app': 'kube-dns' }, namespace: 'kube-system' };
    const prod = overlay === 'prod';
    const nats = { labels: { 'app.kubernetes.io/name': 'nats' }, namespace: prod ? 'nats' : undefined };
    const postgres: Destination = { labels: prod ? { 'cnpg.io/cluster': 'chatbot-keys-pg' } : { 'app.kubernetes.io/name': 'postgres' } };
    const redis: Destination = prod ? { labels: {}, namespace: 'elsewhere' } : { labels: { 'app.kubernetes.io/name': 'redis' } };
    const upstream: Destination = prod
      ? { labels: {}, namespace: 'chatbot-platform' }
      : { labels: { 'app.kubernetes.io/name': 'demo-upstream' } };
    const reach = (name: string) => ({
      dns: egressAllowed(objects, pod(name), dns, 53, 'UDP'),
      nats: egressAllowed(objects, pod(name), nats, 4222),
      postgres: egressAllowed(objects, pod(name), postgres, 5432),
      redis: egressAllowed(objects, pod(name), redis, 6379),
      upstream: egressAllowed(objects, pod(name), upstream, prod ? 8080 : 8090),
      // Nothing may reach an arbitrary in-cluster port, e.g. the Kubernetes API.
      elsewhere: egressAllowed(objects, pod(name), { labels: { component: 'apiserver' }, namespace: 'default' }, 6443),
    });
    const none = { dns: true, nats: false, postgres: false, redis: false, upstream: false, elsewhere: false };
    expect(reach('gateway')).toEqual({ ...none, nats: true, redis: true, upstream: true });
    expect(reach('key-management')).toEqual({ ...none, nats: true, postgres: true });
    expect(reach('auth-verifier')).toEqual({ ...none, nats: true, redis: true });
    expect(reach('usage-tracker')).toEqual({ ...none, nats: true, postgres: true });
    expect(reach('migrate')).toEqual({ ...none, postgres: true });
  });
});

describeRendered('k8s/overlays/dev on kind, k3d or minikube', () => {
  const objects = rendered.dev;
  const script = join(ROOT, 'scripts/k8s-dev-images.sh');

  it('never pulls its own images (they are loaded into the nodes), so a missing one is named, not pulled from Docker Hub', () => {
    for (const workload of appWorkloads(objects)) {
      const pod = podSpecOf(workload);
      for (const container of [...(pod.initContainers ?? []), ...pod.containers]) {
        expect({ container: `${workload.metadata.name}/${container.name}`, policy: container.imagePullPolicy }).toEqual({
          container: `${workload.metadata.name}/${container.name}`,
          policy: 'Never',
        });
      }
    }
  });

  it('has a script that builds and loads every image the overlay runs, for kind, k3d and minikube', () => {
    accessSync(script, constants.X_OK);
    const text = readFileSync(script, 'utf8');
    const targets = /TARGETS=\(([^)]*)\)/.exec(text)![1].split(/\s+/).filter(Boolean);
    const tag = /TAG=(\S+)/.exec(text)![1];
    const images = new Set(
      appWorkloads(objects).flatMap((workload) =>
        [...(podSpecOf(workload).initContainers ?? []), ...podSpecOf(workload).containers].map((container: Manifest) => container.image),
      ),
    );
    expect([...images].sort()).toEqual(targets.map((target) => `chatbot-keys/${target}:${tag}`).sort());
    expect(text).toMatch(/kind load docker-image/);
    expect(text).toMatch(/k3d image import/);
    expect(text).toMatch(/minikube .*image load/);
  });
});

describeRendered('k8s/overlays/prod on a 3-server NATS cluster', () => {
  it('keeps the key.used stream on three replicas, read by both services that declare the stream', async () => {
    const objects = rendered.prod;
    const environment = (name: string) => {
      const container = podSpecOf(named(objects, 'Deployment', name)!).containers[0];
      return containerEnvironment(container, objects, (_secret, _key, variable) => testSecretValue(variable));
    };
    const { loadGatewayConfig } = await import('../../apps/gateway/src/config.js');
    const { loadUsageTrackerConfig } = await import('../../apps/usage-tracker/src/config.js');
    expect(loadGatewayConfig(environment('gateway')).usageStreamReplicas).toBe(3);
    expect(loadUsageTrackerConfig(environment('usage-tracker')).ingest.streamReplicas).toBe(3);
    expect(dataOf(configMapOf(base)).USAGE_STREAM_REPLICAS).toBe('1');
  });
});
