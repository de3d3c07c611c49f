import { describe, expect, it } from '@jest/globals';
import { MAX_USAGE_POINTS } from '@app/contracts';
import { ApiError } from '@app/common';
import { densePoints, requireKeptResolution, resolveUsageWindow } from './usage-window.js';

const now = Date.parse('2026-03-01T10:37:12.000Z');

describe('resolveUsageWindow', () => {
  it('defaults to the last 24 hours by hour, including the current partial hour', () => {
    const sut = resolveUsageWindow({}, now);
    expect(sut).toEqual({
      interval: 'hour',
      intervalMs: 3_600_000,
      startMs: Date.parse('2026-02-28T10:00:00Z'),
      toMs: now,
      points: 25,
    });
  });

  it('aligns minute, hour and day points to UTC boundaries', () => {
    const query = { from: '2026-03-01T10:15:30+02:00', to: '2026-03-03T00:00:00Z' };
    expect(resolveUsageWindow({ ...query, interval: 'day' }, now)).toMatchObject({
      startMs: Date.parse('2026-03-01T00:00:00Z'),
      points: 2,
    });
    expect(resolveUsageWindow({ ...query, interval: 'hour' }, now)).toMatchObject({
      startMs: Date.parse('2026-03-01T08:00:00Z'),
      points: 40,
    });
    expect(resolveUsageWindow({ from: '2026-03-01T10:15:30Z', to: '2026-03-01T10:17:00Z', interval: 'minute' }, now)).toMatchObject({
      startMs: Date.parse('2026-03-01T10:15:00Z'),
      points: 2,
    });
  });

  it('accepts bare dates as midnight UTC', () => {
    const sut = resolveUsageWindow({ from: '2026-03-01', to: '2026-03-08', interval: 'day' }, now);
    expect(sut).toMatchObject({ startMs: Date.parse('2026-03-01T00:00:00Z'), points: 7 });
  });

  it('gives no points for an empty range', () => {
    expect(resolveUsageWindow({ from: '2026-03-01T10:30:00Z', to: '2026-03-01T10:30:00Z' }, now).points).toBe(0);
  });

  it('fits a full day at minute resolution, even from an unaligned start', () => {
    const sut = resolveUsageWindow({ from: '2026-03-01T00:00:30Z', to: '2026-03-02T00:00:30Z', interval: 'minute' }, now);
    expect(sut.points).toBe(1441);
  });

  it('refuses `from` after `to` as invalid_request', () => {
    expect(() => resolveUsageWindow({ from: '2026-03-02T00:00:00Z', to: '2026-03-01T00:00:00Z' }, now)).toThrow(
      expect.objectContaining({ code: 'invalid_request' }),
    );
  });

  it('refuses more points than the documented maximum', () => {
    const tooLong = { from: '2026-01-01T00:00:00Z', to: '2026-04-01T00:00:00Z', interval: 'hour' as const };
    let error: unknown;
    try {
      resolveUsageWindow(tooLong, now);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).code).toBe('invalid_request');
    expect((error as ApiError).message).toContain(String(MAX_USAGE_POINTS));
    const atLimit = {
      from: '2026-01-01T00:00:00Z',
      to: new Date(Date.parse('2026-01-01T00:00:00Z') + MAX_USAGE_POINTS * 3_600_000).toISOString(),
    };
    expect(resolveUsageWindow({ ...atLimit, interval: 'hour' }, now).points).toBe(MAX_USAGE_POINTS);
  });
});

describe('densePoints', () => {
  it('fills every interval, with zeros where nothing was used', () => {
    const window = resolveUsageWindow({ from: '2026-03-01T10:00:00Z', to: '2026-03-01T13:00:00Z', interval: 'hour' }, now);
    const sut = densePoints(window, new Map([[1, { count: 4, refused: 2 }]]));
    expect(sut).toEqual([
      { start: '2026-03-01T10:00:00.000Z', count: 0, refused: 0 },
      { start: '2026-03-01T11:00:00.000Z', count: 4, refused: 2 },
      { start: '2026-03-01T12:00:00.000Z', count: 0, refused: 0 },
    ]);
  });
});

describe('requireKeptResolution', () => {
  const horizons = { minutesFrom: Date.parse('2026-02-22T00:00:00Z'), hoursFrom: Date.parse('2025-02-01T00:00:00Z') };

  it('answers minute points only from the minute horizon on, hour points from the hour horizon on, days always', () => {
    const minutes = resolveUsageWindow({ from: '2026-02-21T23:59:00Z', to: '2026-02-22T01:00:00Z', interval: 'minute' }, now);
    expect(() => requireKeptResolution(minutes, horizons)).toThrow('minute points are kept from 2026-02-22T00:00:00.000Z on');
    const kept = resolveUsageWindow({ from: '2026-02-22T00:00:00Z', to: '2026-02-22T01:00:00Z', interval: 'minute' }, now);
    expect(() => requireKeptResolution(kept, horizons)).not.toThrow();
    const hours = resolveUsageWindow({ from: '2025-01-31T00:00:00Z', to: '2025-02-02T00:00:00Z', interval: 'hour' }, now);
    expect(() => requireKeptResolution(hours, horizons)).toThrow(expect.objectContaining({ code: 'invalid_request' }));
    const days = resolveUsageWindow({ from: '2020-01-01', to: '2020-02-01', interval: 'day' }, now);
    expect(() => requireKeptResolution(days, horizons)).not.toThrow();
    expect(() => requireKeptResolution(minutes, { minutesFrom: null, hoursFrom: null })).not.toThrow();
  });
});
