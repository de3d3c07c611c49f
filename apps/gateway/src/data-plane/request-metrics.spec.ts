import { describe, expect, it } from '@jest/globals';
import { Registry } from 'prom-client';
import { RequestMetrics, routeClassOf } from './request-metrics.js';

describe('RequestMetrics', () => {
  it('classifies routes by where their chatbot id comes from', () => {
    expect(routeClassOf({ from: 'path', name: 'chatbotId' })).toBe('chatbot');
    expect(routeClassOf({ from: 'query', name: 'bot' })).toBe('chatbot');
    expect(routeClassOf({ from: 'body', name: 'chatbotId' })).toBe('chat');
    expect(routeClassOf(null)).toBe('account');
  });

  it('counts requests by route class and status and times them per route class', async () => {
    const registry = new Registry();
    const sut = new RequestMetrics(registry);
    const started = performance.now() - 2; // two milliseconds ago
    sut.record('chatbot', 200, started);
    sut.record('chatbot', 200, started);
    sut.record('chatbot', 401, started);
    sut.record('account', 499, started);

    const counts = (await registry.getSingleMetric('gateway_data_plane_requests_total')!.get()).values;
    expect(counts.map(({ labels, value }) => [labels.route, labels.status, value])).toEqual(
      expect.arrayContaining([
        ['chatbot', '200', 2],
        ['chatbot', '401', 1],
        ['account', '499', 1],
      ]),
    );
    const text = await registry.metrics();
    expect(text).toContain('gateway_data_plane_request_duration_seconds_count{route="chatbot"} 3');
    // Two milliseconds: above the 1 ms bucket, within the 2.5 ms one.
    expect(text).toContain('gateway_data_plane_request_duration_seconds_bucket{le="0.001",route="chatbot"} 0');
    expect(text).toContain('gateway_data_plane_request_duration_seconds_bucket{le="0.025",route="chatbot"} 3');
  });
});
