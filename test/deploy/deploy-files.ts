import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, parseAllDocuments } from 'yaml';

/** Reading the deployment files (Dockerfile, docker-compose.yml, k8s/) the way their tools do. */

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const K8S = join(ROOT, 'k8s');

export type Manifest = Record<string, any>;

export function repoPath(path: string): string {
  return relative(ROOT, path);
}

export function yamlFilesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return yamlFilesUnder(path);
    return /\.ya?ml$/.test(name) ? [path] : [];
  });
}

/** Every document of a YAML file; a syntax error in any of them throws, naming the file. */
export function readYamlDocuments(path: string): Manifest[] {
  const documents = parseAllDocuments(readFileSync(path, 'utf8'));
  return documents.map((document, index) => {
    if (document.errors.length) throw new Error(`${repoPath(path)} document ${index}: ${document.errors[0].message}`);
    return document.toJS() as Manifest;
  });
}

export function parseYamlDocuments(text: string): Manifest[] {
  return parseAllDocuments(text).map((document) => {
    if (document.errors.length) throw new Error(document.errors[0].message);
    return document.toJS() as Manifest;
  });
}

// ---- kustomize -------------------------------------------------------------------------------

export interface Kustomization {
  dir: string;
  spec: Manifest;
}

export const isKustomizationFile = (path: string) => /(^|\/)kustomization\.ya?ml$/.test(path);

export function readKustomization(dir: string): Kustomization {
  const file = ['kustomization.yaml', 'kustomization.yml'].map((name) => join(dir, name)).find((path) => existsSync(path));
  if (!file) throw new Error(`${repoPath(dir)} has no kustomization.yaml`);
  return { dir, spec: readYamlDocuments(file)[0] };
}

export function kustomizationDirs(): string[] {
  return yamlFilesUnder(K8S)
    .filter(isKustomizationFile)
    .map((path) => dirname(path));
}

/** Every file or folder a kustomization names: resources, components, patches, generator files. */
export function referencedPaths({ dir, spec }: Kustomization): string[] {
  const names: string[] = [
    ...(spec.resources ?? []),
    ...(spec.components ?? []),
    ...(spec.patchesStrategicMerge ?? []),
    ...(spec.patches ?? []).filter((patch: Manifest) => patch.path).map((patch: Manifest) => patch.path),
    ...[...(spec.configMapGenerator ?? []), ...(spec.secretGenerator ?? [])].flatMap((generator: Manifest) => [
      ...(generator.files ?? []).map((file: string) => file.replace(/^[^=]+=/, '')),
      ...(generator.envs ?? []),
    ]),
  ];
  return names.map((name) => resolve(dir, name));
}

export function resourceFiles(kustomization: Kustomization): string[] {
  return (kustomization.spec.resources ?? [])
    .map((name: string) => resolve(kustomization.dir, name))
    .filter((path: string) => existsSync(path) && statSync(path).isFile());
}

export const objectId = (object: Manifest) => `${object.kind}/${object.metadata?.name}`;

// ---- workloads and their environment ---------------------------------------------------------

export const podSpecOf = (workload: Manifest): Manifest => workload.spec.template.spec;

export function workloads(objects: Manifest[]): Manifest[] {
  return objects.filter((object) => ['Deployment', 'StatefulSet', 'Job', 'DaemonSet'].includes(object.kind));
}

export function dataOf(object: Manifest): Record<string, string> {
  const decoded = Object.fromEntries(
    Object.entries(object.data ?? {}).map(([key, value]) =>
      object.kind === 'Secret' ? [key, Buffer.from(String(value), 'base64').toString('utf8')] : [key, String(value)],
    ),
  );
  return { ...decoded, ...(object.stringData ?? {}) };
}

export type SecretValue = (secretName: string, key: string, variable: string) => string | undefined;

/**
 * The environment a container would see: its ConfigMaps (envFrom, configMapKeyRef) from
 * `objects`, its secret references through `secretValue`. A reference to a missing object or
 * key that is not optional throws, as the kubelet would refuse to start the container.
 */
export function containerEnvironment(container: Manifest, objects: Manifest[], secretValue: SecretValue): Record<string, string> {
  const find = (kind: string, name: string) => objects.find((object) => object.kind === kind && object.metadata.name === name);
  const environment: Record<string, string> = {};
  for (const source of container.envFrom ?? []) {
    const name = source.configMapRef?.name ?? source.secretRef?.name;
    const object = find(source.configMapRef ? 'ConfigMap' : 'Secret', name);
    if (!object) {
      if ((source.configMapRef ?? source.secretRef).optional) continue;
      throw new Error(`${container.name}: envFrom names ${name}, which does not exist`);
    }
    Object.assign(environment, dataOf(object));
  }
  for (const variable of container.env ?? []) {
    if ('value' in variable) {
      environment[variable.name] = String(variable.value);
      continue;
    }
    const configMapRef = variable.valueFrom?.configMapKeyRef;
    const secretRef = variable.valueFrom?.secretKeyRef;
    const ref = configMapRef ?? secretRef;
    if (!ref) throw new Error(`${container.name}: ${variable.name} has a valueFrom this reader does not know`);
    const configMap = configMapRef ? find('ConfigMap', ref.name) : undefined;
    const value = configMapRef ? (configMap ? dataOf(configMap)[ref.key] : undefined) : secretValue(ref.name, ref.key, variable.name);
    if (value === undefined) {
      if (ref.optional) continue;
      throw new Error(`${container.name}: ${variable.name} refers to ${ref.name}/${ref.key}, which does not exist`);
    }
    environment[variable.name] = value;
  }
  return environment;
}

export function secretsIn(objects: Manifest[]): SecretValue {
  return (secretName, key) => {
    const secret = objects.find((object) => object.kind === 'Secret' && object.metadata.name === secretName);
    return secret ? dataOf(secret)[key] : undefined;
  };
}

// ---- docker compose --------------------------------------------------------------------------

/** Compose's variable interpolation: $$, $VAR, ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?error}. */
export function interpolate(value: string, variables: Record<string, string | undefined>): string {
  return value.replace(
    /\$(\$|[A-Za-z_][A-Za-z0-9_]*|\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\})/g,
    (match, whole, name, operator, argument) => {
      if (whole === '$') return '$';
      if (!match.startsWith('${')) return variables[whole] ?? '';
      const current = variables[name];
      const unset = operator?.startsWith(':') ? !current : current === undefined;
      if (operator?.endsWith('-')) return unset ? argument : (current as string);
      if (operator?.endsWith('?')) {
        if (unset) throw new Error(`${name}: ${argument || 'required'}`);
        return current as string;
      }
      return current ?? '';
    },
  );
}

function interpolateAll(node: unknown, variables: Record<string, string | undefined>): unknown {
  if (typeof node === 'string') return interpolate(node, variables);
  if (Array.isArray(node)) return node.map((item) => interpolateAll(item, variables));
  if (node && typeof node === 'object') {
    return Object.fromEntries(Object.entries(node).map(([key, value]) => [key, interpolateAll(value, variables)]));
  }
  return node;
}

/** docker-compose.yml as `docker compose config` would see it, with `variables` as the shell environment. */
export function readCompose(variables: Record<string, string | undefined> = {}): Manifest {
  const parsed = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true });
  return interpolateAll(parsed, variables) as Manifest;
}

export function composeEnvironment(service: Manifest): Record<string, string> {
  const environment = service.environment ?? {};
  if (Array.isArray(environment)) {
    return Object.fromEntries(environment.map((entry: string) => [entry.split('=')[0], entry.slice(entry.indexOf('=') + 1)]));
  }
  // Compose takes a string, number, boolean or null for each variable.
  const values = environment as Record<string, string | number | boolean | null>;
  return Object.fromEntries(Object.entries(values).map(([key, value]) => [key, value === null ? '' : String(value)]));
}

/** The port in a healthcheck like `fetch('http://127.0.0.1:PORT/health/ready')`. */
export function healthcheckPort(service: Manifest): number | undefined {
  const test = [service.healthcheck?.test ?? []].flat().join(' ');
  const match = /http:\/\/(?:127\.0\.0\.1|localhost):(\d+)\/health\/ready/.exec(test);
  return match ? Number(match[1]) : undefined;
}

// ---- the real kustomize (kubectl kustomize) ---------------------------------------------------

const kubectlProbe = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' });
/** Whether `kubectl kustomize` can run here; the checks that need it are skipped, saying so, when not. */
export const KUBECTL = !kubectlProbe.error && kubectlProbe.status === 0;
if (!KUBECTL) {
  process.stderr.write(
    'test/deploy: kubectl is not installed: the checks of rendered k8s/ overlays are SKIPPED (apt-get install kubectl)\n',
  );
}

const rendered = new Map<string, Manifest[]>();

/** What `kubectl kustomize dir` renders, as objects; a warning or an error fails. Cached per folder. */
export function kustomize(dir: string): Manifest[] {
  const cached = rendered.get(dir);
  if (cached) return cached;
  const result = spawnSync('kubectl', ['kustomize', dir], { encoding: 'utf8' });
  if (result.error || result.status !== 0 || result.stderr) {
    throw new Error(`kubectl kustomize ${repoPath(dir)}: ${result.error?.message ?? result.stderr}`);
  }
  const objects = parseYamlDocuments(result.stdout).filter(Boolean);
  rendered.set(dir, objects);
  return objects;
}
