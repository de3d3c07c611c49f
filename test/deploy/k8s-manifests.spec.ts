import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { SERVICES } from '../../scripts/system.mjs';
import { CONFIG_LOADERS, testSecretValue } from './app-configs.js';
import {
  containerEnvironment,
  dataOf,
  isKustomizationFile,
  K8S,
  KUBECTL,
  kustomizationDirs,
  kustomize,
  objectId,
  podSpecOf,
  readKustomization,
  readYamlDocuments,
  referencedPaths,
  repoPath,
  resourceFiles,
  workloads,
  yamlFilesUnder,
  type Manifest,
} from './deploy-files.js';
import { validateManifest } from './kubernetes-schemas.js';

const BASE = join(K8S, 'base');
const MONITORING = join(K8S, 'monitoring');
const kustomizations = kustomizationDirs().map(readKustomization);
const APPS = SERVICES.map((service) => service.name);

/** Files that are whole Kubernetes objects: kustomize resources. */
const manifestFiles = [...new Set(kustomizations.flatMap(resourceFiles))];
const describeRendered = KUBECTL ? describe : describe.skip;
const baseObjects = KUBECTL ? kustomize(BASE) : [];
const baseWorkloads = workloads(baseObjects);
const appDeployments = baseObjects.filter((object) => object.kind === 'Deployment');

const labelsMatch = (selector: Record<string, string>, labels: Record<string, string> = {}) =>
  Object.entries(selector).every(([key, value]) => labels[key] === value);
const podLabels = (workload: Manifest): Record<string, string> => workload.spec.template.metadata?.labels ?? {};

describe('k8s/ files', () => {
  it('finds the base, both overlays and manifests to check', () => {
    expect(kustomizations.map((kustomization) => repoPath(kustomization.dir)).sort()).toEqual([
      'k8s/base',
      'k8s/monitoring',
      'k8s/monitoring/scrape-config',
      'k8s/nats',
      'k8s/overlays/dev',
      'k8s/overlays/prod',
    ]);
    expect(manifestFiles.length).toBeGreaterThan(10);
  });

  it('are all valid YAML and each one is used: a kustomize resource, patch or generator file, or promtool tests', () => {
    const promtoolTests = join(MONITORING, 'alerts.test.yaml');
    const used = new Set([...kustomizations.flatMap(referencedPaths), ...manifestFiles, promtoolTests]);
    for (const file of yamlFilesUnder(K8S)) {
      expect(() => readYamlDocuments(file)).not.toThrow();
      if (isKustomizationFile(file)) continue;
      expect({ file: repoPath(file), used: used.has(file) }).toEqual({ file: repoPath(file), used: true });
    }
  });

  it.each(manifestFiles.map((file) => [repoPath(file), file]))('%s validates against the Kubernetes schemas', async (_name, file) => {
    const documents = readYamlDocuments(file);
    expect(documents.length).toBeGreaterThan(0);
    for (const document of documents) await validateManifest(document);
  });
});

describe.each(kustomizations.map((kustomization) => [repoPath(kustomization.dir), kustomization] as const))(
  'kustomization %s',
  (_name, kustomization) => {
    it('is a Kustomization naming files and folders that exist', () => {
      expect(kustomization.spec).toMatchObject({ apiVersion: 'kustomize.config.k8s.io/v1beta1', kind: 'Kustomization' });
      const paths = referencedPaths(kustomization);
      expect(paths.length).toBeGreaterThan(0);
      for (const path of paths) {
        expect({ path: repoPath(path), exists: existsSync(path) }).toEqual({ path: repoPath(path), exists: true });
        // A folder is only a valid resource when it is a kustomization itself.
        if (statSync(path).isDirectory()) expect(kustomizationDirs()).toContain(path);
      }
    });

    it('renders with the real kustomize, without a warning', () => {
      if (!KUBECTL) return;
      expect(kustomize(kustomization.dir).length).toBeGreaterThan(0);
    });
  },
);

describeRendered('k8s/base workloads, rendered', () => {
  it('has a Deployment per service and the migration Job', () => {
    expect(appDeployments.map((deployment) => deployment.metadata.name).sort()).toEqual([...APPS].sort());
    expect(baseObjects.filter((object) => object.kind === 'Job').map((job) => job.metadata.name)).toEqual(['migrate']);
  });

  it.each(APPS)('%s: probes on /health/*, non-root, read-only root with an emptyDir /tmp, resources, draining', (name) => {
    const deployment = appDeployments.find((candidate) => candidate.metadata.name === name)!;
    const pod = podSpecOf(deployment);
    expect(pod.containers).toHaveLength(1);
    const [container] = pod.containers;
    const httpPort = container.ports.find((port: Manifest) => port.name === 'http');
    expect(httpPort.containerPort).toBe(SERVICES.find((service) => service.name === name)!.port);
    expect(container.livenessProbe.httpGet).toEqual({ path: '/health/live', port: 'http' });
    expect(container.readinessProbe.httpGet).toEqual({ path: '/health/ready', port: 'http' });
    expect(pod.securityContext.runAsNonRoot).toBe(true);
    expect(pod.securityContext.runAsUser).toBeGreaterThan(0);
    expect(container.securityContext).toMatchObject({
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
    });
    const tmp = container.volumeMounts.find((mount: Manifest) => mount.mountPath === '/tmp');
    expect(pod.volumes.find((volume: Manifest) => volume.name === tmp?.name)?.emptyDir).toBeDefined();
    expect(container.resources.requests).toEqual({ cpu: expect.anything(), memory: expect.anything() });
    expect(container.resources.limits).toEqual({ cpu: expect.anything(), memory: expect.anything() });
    const [, pause] = container.lifecycle.preStop.exec.command as string[];
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(Number(pause) + 10);
    // Service links would define GATEWAY_PORT / DEMO_UPSTREAM_PORT as tcp://… and break them.
    expect(pod.enableServiceLinks).toBe(false);
    expect(podLabels(deployment)['app.kubernetes.io/part-of']).toBe('chatbot-keys');
  });

  it('runs every workload anywhere in k8s/ as non-root with a read-only root, resources and probes', () => {
    const everywhere = workloads(manifestFiles.flatMap(readYamlDocuments));
    expect(everywhere.length).toBeGreaterThan(baseWorkloads.length);
    for (const workload of everywhere) {
      const pod = podSpecOf(workload);
      for (const container of [...(pod.initContainers ?? []), ...pod.containers]) {
        const id = `${objectId(workload)}/${container.name}`;
        const isInit = (pod.initContainers ?? []).includes(container);
        expect({ id, runAsNonRoot: container.securityContext?.runAsNonRoot ?? pod.securityContext?.runAsNonRoot }).toEqual({
          id,
          runAsNonRoot: true,
        });
        expect({ id, readOnly: container.securityContext?.readOnlyRootFilesystem }).toEqual({ id, readOnly: true });
        expect({ id, requests: Object.keys(container.resources?.requests ?? {}).sort() }).toEqual({ id, requests: ['cpu', 'memory'] });
        expect({ id, limits: Object.keys(container.resources?.limits ?? {}).sort() }).toEqual({ id, limits: ['cpu', 'memory'] });
        if (workload.kind !== 'Job' && !isInit) {
          expect({ id, probes: Boolean(container.livenessProbe && container.readinessProbe) }).toEqual({ id, probes: true });
        }
      }
    }
  });

  it('gives every Service a selector that matches a pod and a target port that pod names', () => {
    const everywhere = manifestFiles.flatMap(readYamlDocuments);
    const pods = workloads(everywhere);
    for (const service of everywhere.filter((object) => object.kind === 'Service')) {
      const targets = pods.filter((workload) => labelsMatch(service.spec.selector, podLabels(workload)));
      expect({ service: service.metadata.name, pods: targets.length }).toEqual({ service: service.metadata.name, pods: 1 });
      const names = podSpecOf(targets[0]).containers.flatMap((container: Manifest) =>
        (container.ports ?? []).map((port: Manifest) => port.name),
      );
      for (const port of service.spec.ports) expect(names).toContain(port.targetPort);
    }
  });

  it('scales the gateway and the auth-verifier with HPAs, which own their replica counts', () => {
    const hpas = baseObjects.filter((object) => object.kind === 'HorizontalPodAutoscaler');
    expect(hpas.map((hpa) => hpa.spec.scaleTargetRef.name).sort()).toEqual(['auth-verifier', 'gateway']);
    for (const hpa of hpas) {
      const target = appDeployments.find((deployment) => deployment.metadata.name === hpa.spec.scaleTargetRef.name)!;
      expect(target.spec.replicas).toBeUndefined();
      expect(hpa.spec.minReplicas).toBeGreaterThanOrEqual(2);
    }
  });

  it('keeps a PodDisruptionBudget on every service but the demo upstream', () => {
    const budgets = baseObjects.filter((object) => object.kind === 'PodDisruptionBudget');
    for (const name of APPS.filter((app) => app !== 'demo-upstream')) {
      const deployment = appDeployments.find((candidate) => candidate.metadata.name === name)!;
      expect(budgets.filter((budget) => labelsMatch(budget.spec.selector.matchLabels, podLabels(deployment)))).toHaveLength(1);
    }
  });
});

describeRendered('k8s/base network policies, rendered', () => {
  const policies = baseObjects.filter((object) => object.kind === 'NetworkPolicy');
  const policyFor = (name: string) => policies.find((policy) => policy.metadata.name === name)!;
  /** Base workloads (by name) whose pods a policy's `from` peers admit from this namespace. */
  const admitted = (policy: Manifest) =>
    baseWorkloads
      .filter((workload) =>
        (policy.spec.ingress ?? []).some((rule: Manifest) =>
          (rule.from ?? []).some(
            (peer: Manifest) =>
              peer.podSelector && !peer.namespaceSelector && labelsMatch(peer.podSelector.matchLabels ?? {}, podLabels(workload)),
          ),
        ),
      )
      .map((workload) => workload.metadata.name)
      .sort();

  it('deny all ingress by default', () => {
    expect(policyFor('default-deny-ingress').spec).toEqual({ podSelector: {}, policyTypes: ['Ingress'] });
  });

  it('leave only the gateway open to every source', () => {
    const open = policies.filter((policy) => (policy.spec.ingress ?? []).some((rule: Manifest) => !rule.from));
    expect(open.map((policy) => policy.metadata.name)).toEqual(['gateway-ingress']);
    const gateway = appDeployments.find((deployment) => deployment.metadata.name === 'gateway')!;
    expect(labelsMatch(open[0].spec.podSelector.matchLabels, podLabels(gateway))).toBe(true);
    for (const other of appDeployments.filter((deployment) => deployment !== gateway)) {
      expect(labelsMatch(open[0].spec.podSelector.matchLabels, podLabels(other))).toBe(false);
    }
    expect(open[0].spec.ingress[0].ports).toEqual([{ protocol: 'TCP', port: 8080 }]);
  });

  it('admit to PostgreSQL only key-management, usage-tracker and the migration Job', () => {
    expect(admitted(policyFor('postgres-ingress'))).toEqual(['key-management', 'migrate', 'usage-tracker']);
  });

  it('admit to Redis only the auth-verifier and the gateways (rate-limit counts), and to NATS only the services that use it', () => {
    expect(admitted(policyFor('redis-ingress'))).toEqual(['auth-verifier', 'gateway']);
    expect(admitted(policyFor('nats-ingress'))).toEqual(['auth-verifier', 'gateway', 'key-management', 'usage-tracker']);
    expect(admitted(policyFor('demo-upstream-ingress'))).toEqual(['gateway']);
  });

  it('let the monitoring namespace scrape /metrics on every service', () => {
    const metrics = policyFor('metrics-from-monitoring');
    for (const deployment of appDeployments) expect(labelsMatch(metrics.spec.podSelector.matchLabels, podLabels(deployment))).toBe(true);
    expect(metrics.spec.ingress).toEqual([
      {
        from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } }],
        ports: [
          { protocol: 'TCP', port: 'http' },
          { protocol: 'TCP', port: 'metrics' },
        ],
      },
    ]);
  });
});

describeRendered('k8s/base configuration, rendered', () => {
  const configMap = baseObjects.find((object) => object.kind === 'ConfigMap' && object.metadata.name.startsWith('chatbot-keys-config'))!;
  const secret = baseObjects.find((object) => object.kind === 'Secret')!;

  it('keeps no real secret in the Secret template: every value is a placeholder', () => {
    for (const [key, value] of Object.entries(dataOf(secret))) {
      expect({ key, value }).toEqual({ key, value: expect.stringMatching(/^(REPLACE-ME|)$/) });
    }
  });

  it("gives each workload an environment its service's config loader accepts (secrets as test values)", () => {
    for (const workload of baseWorkloads) {
      const name = workload.metadata.name;
      const [container] = podSpecOf(workload).containers;
      const environment = containerEnvironment(container, baseObjects, (_secret, _key, variable) => testSecretValue(variable));
      const listensOn = CONFIG_LOADERS[name](environment);
      const service = SERVICES.find((candidate) => candidate.name === name);
      expect({ name, listensOn }).toEqual({ name, listensOn: service?.port });
      if (service) expect(dataOf(configMap)[service.portVariable]).toBe(String(service.port));
    }
  });

  it('refuses to start with a REPLACE-ME placeholder left in place', () => {
    const required = Object.entries(dataOf(secret)).filter(([, value]) => value === 'REPLACE-ME');
    expect(required.length).toBeGreaterThan(0);
    for (const workload of baseWorkloads) {
      const [container] = podSpecOf(workload).containers;
      const environment = containerEnvironment(
        container,
        baseObjects,
        (_secret, key, variable) => dataOf(secret)[key] ?? testSecretValue(variable),
      );
      const usesPlaceholder = required.some(([key]) => environment[key] === 'REPLACE-ME');
      if (usesPlaceholder) expect(() => CONFIG_LOADERS[workload.metadata.name](environment)).toThrow(/must be a URL/);
    }
  });

  it('keeps each secret reference to the services that need it', () => {
    const secretVariables = (name: string) =>
      (podSpecOf(baseWorkloads.find((workload) => workload.metadata.name === name)!).containers[0].env ?? [])
        .filter((variable: Manifest) => variable.valueFrom?.secretKeyRef)
        .map((variable: Manifest) => variable.name)
        .sort();
    expect(secretVariables('gateway')).toEqual(['ADMIN_TOKEN', 'NATS_PASSWORD', 'REDIS_URL', 'SSO_HS256_SECRET']);
    expect(secretVariables('key-management')).toEqual(['DATABASE_URL', 'NATS_PASSWORD']);
    expect(secretVariables('usage-tracker')).toEqual(['DATABASE_URL', 'NATS_PASSWORD']);
    expect(secretVariables('migrate')).toEqual(['DATABASE_URL']);
    expect(secretVariables('auth-verifier')).toEqual(['NATS_PASSWORD', 'REDIS_URL']);
    expect(secretVariables('demo-upstream')).toEqual([]);
  });
});
