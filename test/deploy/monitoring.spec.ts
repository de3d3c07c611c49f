import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { parse, stringify } from 'yaml';
import { dataOf, K8S, KUBECTL, kustomize, podSpecOf, readYamlDocuments, ROOT, workloads, type Manifest } from './deploy-files.js';

const MONITORING = join(K8S, 'monitoring');
const rule = readYamlDocuments(join(MONITORING, 'alerts.yaml'))[0];
const alertTests = parse(readFileSync(join(MONITORING, 'alerts.test.yaml'), 'utf8'));
const dashboard = JSON.parse(readFileSync(join(MONITORING, 'dashboards/chatbot-keys.json'), 'utf8'));
const alerts: Manifest[] = rule.spec.groups.flatMap((group: Manifest) => group.rules.filter((candidate: Manifest) => candidate.alert));

const promtool = spawnSync('promtool', ['--version'], { encoding: 'utf8' });
const PROMTOOL = !promtool.error && promtool.status === 0;
if (!PROMTOOL)
  process.stderr.write(
    'test/deploy: promtool is not installed: `promtool check/test rules` checks are SKIPPED (apt-get install prometheus)\n',
  );
const withPromtool = PROMTOOL ? describe : describe.skip;
const describeRendered = KUBECTL ? describe : describe.skip;

// ---- the metrics that really exist -------------------------------------------------------------

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'node_modules' ? [] : sourceFiles(path);
    return /\.ts$/.test(name) && !/\.spec\.ts$/.test(name) ? [path] : [];
  });
}

/** Every metric the services register (`new Counter({ name: … })` and friends), with a histogram's series names. */
function serviceMetrics(): Set<string> {
  const names = new Set<string>();
  for (const file of [...sourceFiles(join(ROOT, 'apps')), ...sourceFiles(join(ROOT, 'libs'))]) {
    const text = readFileSync(file, 'utf8');
    for (const [, type, name] of text.matchAll(
      /new (Counter|Gauge|Histogram|Summary)(?:<[^>]*>)?\(\s*\{\s*name:\s*'([a-zA-Z_:][a-zA-Z0-9_:]*)'/g,
    )) {
      names.add(name);
      if (type === 'Histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(name + suffix);
      if (type === 'Summary') for (const suffix of ['_sum', '_count']) names.add(name + suffix);
    }
  }
  return names;
}

/** prom-client's default metrics, which every Nest service starts (libs/common/src/health.ts). */
async function defaultMetrics(): Promise<Set<string>> {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const names = new Set<string>();
  for (const metric of await registry.getMetricsAsJSON()) {
    names.add(metric.name);
    if (String(metric.type) === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(metric.name + suffix);
  }
  registry.clear();
  return names;
}

/** What prometheus-nats-exporter (-varz -jsz=consumers) serves for JetStream consumers; see docs/metrics.md. */
const NATS_EXPORTER_METRICS = [
  'jetstream_consumer_num_pending',
  'jetstream_consumer_num_ack_pending',
  'jetstream_consumer_num_redelivered',
  'jetstream_stream_total_messages',
];
/** Series Prometheus makes itself for every target. */
const PROMETHEUS_METRICS = ['up'];

const PROMQL_WORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'bool',
  'and',
  'or',
  'unless',
  'offset',
  'inf',
  'nan',
  'le',
]);

/** The metric names a PromQL expression reads: identifiers that are not functions, keywords, labels or variables. */
export function metricsIn(expression: string): string[] {
  const bare = expression
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, '')
    .replace(/\[[^\]]*\]/g, '')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, '')
    .replace(/\$\w+|\$\{[^}]*\}/g, '');
  return [...bare.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(\()?/g)]
    .filter(([, name, call]) => !call && !PROMQL_WORDS.has(name.toLowerCase()) && !/^\d/.test(name))
    .map(([, name]) => name);
}

let known: Set<string>;
async function knownMetrics(): Promise<Set<string>> {
  known ??= new Set([...serviceMetrics(), ...(await defaultMetrics()), ...NATS_EXPORTER_METRICS, ...PROMETHEUS_METRICS]);
  return known;
}

describe('the metric reader of these checks', () => {
  it('finds the metric names of an expression, and only them', () => {
    expect(
      metricsIn(
        'histogram_quantile(0.99, sum by (route, le) (rate(gateway_data_plane_request_duration_seconds_bucket{namespace=~"$namespace",le!="x"}[$__rate_interval])))',
      ),
    ).toEqual(['gateway_data_plane_request_duration_seconds_bucket']);
    expect(metricsIn('sum(a_total) / sum(b_total) > 0.05 and on (pod) up == 0')).toEqual(['a_total', 'b_total', 'up']);
  });

  it('knows the services metrics from their code, and not made-up ones', async () => {
    const metrics = await knownMetrics();
    for (const name of [
      'gateway_auth_cache_lookups_total',
      'usage_tracker_consumer_lag_messages',
      'gateway_auth_verify_duration_seconds_bucket',
      'process_cpu_seconds_total',
    ]) {
      expect(metrics.has(name)).toBe(true);
    }
    expect(metrics.has('gateway_requests_total')).toBe(false);
  });
});

// ---- alerts --------------------------------------------------------------------------------------

describe('k8s/monitoring/alerts.yaml', () => {
  it('alerts only on metrics the services (or the NATS exporter, or Prometheus) expose', async () => {
    const metrics = await knownMetrics();
    expect(alerts.length).toBeGreaterThanOrEqual(8);
    for (const alert of alerts) {
      const names = metricsIn(alert.expr);
      expect({ alert: alert.alert, names: names.length > 0 }).toEqual({ alert: alert.alert, names: true });
      for (const name of names)
        expect({ alert: alert.alert, metric: name, exposed: metrics.has(name) }).toEqual({
          alert: alert.alert,
          metric: name,
          exposed: true,
        });
    }
  });

  it('has a promtool unit test in which each alert fires', () => {
    const firing = new Set(
      alertTests.tests.flatMap((test: Manifest) =>
        test.alert_rule_test.filter((check: Manifest) => check.exp_alerts.length > 0).map((check: Manifest) => check.alertname),
      ),
    );
    for (const alert of alerts)
      expect({ alert: alert.alert, tested: firing.has(alert.alert) }).toEqual({ alert: alert.alert, tested: true });
    for (const alert of alerts) expect(alert.labels.severity).toMatch(/^(critical|warning)$/);
  });
});

withPromtool('promtool', () => {
  const dir = mkdtempSync(join(tmpdir(), 'deploy-promtool-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const run = (...args: string[]) => spawnSync('promtool', args, { cwd: dir, encoding: 'utf8' });

  it('check rules: the PrometheusRule spec is a valid rule file', () => {
    writeFileSync(join(dir, 'alerts.rules.yaml'), stringify(rule.spec));
    const result = run('check', 'rules', 'alerts.rules.yaml');
    expect(result.stdout + result.stderr).toContain(
      `SUCCESS: ${rule.spec.groups.flatMap((group: Manifest) => group.rules).length} rules found`,
    );
    expect(result.status).toBe(0);
  });

  it('test rules: every alert fires on its condition and stays quiet on a healthy system', () => {
    writeFileSync(join(dir, 'alerts.rules.yaml'), stringify(rule.spec));
    copyFileSync(join(MONITORING, 'alerts.test.yaml'), join(dir, 'alerts.test.yaml'));
    const result = run('test', 'rules', 'alerts.test.yaml');
    expect({ status: result.status, output: result.status === 0 ? 'SUCCESS' : result.stdout + result.stderr }).toEqual({
      status: 0,
      output: 'SUCCESS',
    });
  });

  it('check config: the scrape jobs for additionalScrapeConfigs are valid Prometheus configuration', () => {
    let jobs: Manifest[] = parse(readFileSync(join(MONITORING, 'scrape-config/scrape-config.yaml'), 'utf8'));
    writeFileSync(join(dir, 'probe.yml'), stringify({ scrape_configs: [{ job_name: 'probe', kubernetes_sd_configs: [{ role: 'pod' }] }] }));
    const probe = run('check', 'config', 'probe.yml');
    if (/kubernetes_sd_configs not found/.test(probe.stdout + probe.stderr)) {
      // Debian's promtool is built without Kubernetes discovery: the jobs' discovery cannot be
      // checked here, everything else (relabelling, regexes, paths) still is.
      process.stderr.write(
        'test/deploy: this promtool has no Kubernetes service discovery: kubernetes_sd_configs NOT checked, the rest is\n',
      );
      jobs = jobs.map(({ kubernetes_sd_configs: _discovery, ...job }) => ({ ...job, static_configs: [{ targets: ['127.0.0.1:9'] }] }));
    }
    writeFileSync(join(dir, 'prometheus.yml'), stringify({ global: { scrape_interval: '15s' }, scrape_configs: jobs }));
    const result = run('check', 'config', 'prometheus.yml');
    expect({ status: result.status, output: result.stdout + result.stderr }).toEqual({
      status: 0,
      output: expect.stringContaining('SUCCESS'),
    });
  });
});

// ---- what the Operator and Grafana pick up -------------------------------------------------------

describeRendered('k8s/monitoring, rendered', () => {
  const objects = KUBECTL ? kustomize(MONITORING) : [];
  const overlays = KUBECTL ? ['dev', 'prod'].map((overlay) => kustomize(join(K8S, 'overlays', overlay))) : [];

  it("carries the `release` label kube-prometheus-stack's Prometheus selects, on every PodMonitor and PrometheusRule", () => {
    const selected = objects.filter((object) => ['PodMonitor', 'PrometheusRule'].includes(object.kind));
    expect(selected.map((object) => object.kind).sort()).toEqual(['PodMonitor', 'PodMonitor', 'PrometheusRule']);
    for (const object of selected) expect(object.metadata.labels.release).toBe('kube-prometheus-stack');
  });

  it('scrapes every service on a port its pod names: the gateway on `metrics`, the others on `http`, NATS through its exporter', () => {
    const monitor = objects.find((object) => object.kind === 'PodMonitor' && object.metadata.name === 'chatbot-keys')!;
    const ports = monitor.spec.podMetricsEndpoints.map((endpoint: Manifest) => endpoint.port);
    expect(ports).toEqual(['metrics', 'http']);
    for (const rendered of overlays) {
      for (const workload of workloads(rendered).filter((candidate) => candidate.kind === 'Deployment')) {
        const labels = workload.spec.template.metadata.labels;
        if (!Object.entries(monitor.spec.selector.matchLabels).every(([key, value]) => labels[key] === value)) continue;
        const named = podSpecOf(workload).containers.flatMap((container: Manifest) =>
          (container.ports ?? []).map((port: Manifest) => port.name),
        );
        const expected = workload.metadata.name === 'gateway' ? 'metrics' : 'http';
        expect({ workload: workload.metadata.name, port: named.includes(expected) }).toEqual({
          workload: workload.metadata.name,
          port: true,
        });
      }
    }
    const nats = workloads(overlays[0]).find((workload) => workload.metadata.name === 'nats')!;
    const exporter = podSpecOf(nats).containers.find((container: Manifest) => /prometheus-nats-exporter/.test(container.image));
    expect(exporter?.ports.map((port: Manifest) => port.name)).toContain('metrics');
    expect(exporter?.args).toEqual(expect.arrayContaining(['-jsz=consumers']));
  });

  it('offers the extra scrape jobs as a Secret (what additionalScrapeConfigs reads), not a ConfigMap', () => {
    const [secret] = kustomize(join(MONITORING, 'scrape-config'));
    expect({ kind: secret.kind, name: secret.metadata.name, namespace: secret.metadata.namespace }).toEqual({
      kind: 'Secret',
      name: 'chatbot-keys-scrape-config',
      namespace: 'monitoring',
    });
    expect(parse(dataOf(secret)['scrape-config.yaml'])[0].job_name).toBe('chatbot-keys');
  });

  it("ships the dashboard as a ConfigMap Grafana's sidecar loads", () => {
    const configMap = objects.find((object) => object.kind === 'ConfigMap')!;
    expect(configMap.metadata.labels.grafana_dashboard).toBe('1');
    expect(JSON.parse(dataOf(configMap)['chatbot-keys.json']).uid).toBe(dashboard.uid);
  });
});

// ---- the dashboard -------------------------------------------------------------------------------

describe('k8s/monitoring/dashboards/chatbot-keys.json', () => {
  const panels: Manifest[] = dashboard.panels.filter((panel: Manifest) => panel.type !== 'row');

  it('queries only metrics the services (or the NATS exporter, or Prometheus) expose, in every panel', async () => {
    const metrics = await knownMetrics();
    for (const panel of panels) {
      expect({ panel: panel.title, targets: panel.targets.length > 0 }).toEqual({ panel: panel.title, targets: true });
      for (const target of panel.targets) {
        const names = metricsIn(target.expr);
        expect(names.length).toBeGreaterThan(0);
        for (const name of names)
          expect({ panel: panel.title, metric: name, exposed: metrics.has(name) }).toEqual({
            panel: panel.title,
            metric: name,
            exposed: true,
          });
      }
    }
  });

  it('shows request rate, p50/p99 by route, cache hit ratio, verify latency, revocation propagation, usage lag and undelivered uses, per service', () => {
    const queries = (pattern: RegExp) => panels.filter((panel) => panel.targets.some((target: Manifest) => pattern.test(target.expr)));
    expect(queries(/rate\(gateway_data_plane_requests_total/).length).toBeGreaterThan(0);
    expect(queries(/histogram_quantile\(0\.5, sum by \(route, le\)/).length).toBeGreaterThan(0);
    expect(queries(/histogram_quantile\(0\.99, sum by \(route, le\)/).length).toBeGreaterThan(0);
    expect(queries(/gateway_auth_cache_lookups_total\{[^}]*result="hit"/).length).toBeGreaterThan(0);
    expect(queries(/gateway_auth_verify_duration_seconds_bucket/).length).toBeGreaterThan(0);
    expect(queries(/key_management_keys_revoked_total/).length).toBeGreaterThan(0);
    expect(queries(/usage_tracker_consumer_lag_messages/).length).toBeGreaterThan(0);
    expect(queries(/jetstream_consumer_num_pending/).length).toBeGreaterThan(0);
    expect(queries(/gateway_usage_uses_undelivered_total/).length).toBeGreaterThan(0);
    expect(queries(/by \(service\)/).length).toBeGreaterThan(2);
    const titles = new Set(panels.map((panel) => panel.title));
    expect(titles.size).toBe(panels.length);
    expect(existsSync(join(ROOT, 'docs/metrics.md'))).toBe(true);
  });
});
