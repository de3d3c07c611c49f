import { describe, expect, it } from '@jest/globals';
import { hourPartition, minutePartition, partitionRangeEnd, startOfUtcMonth } from './usage-partitions.js';

describe('usage partitions', () => {
  it('names a UTC day partition for minutes and a UTC month partition for hours', () => {
    const sut = Date.parse('2026-02-28T23:59:59.999Z');
    expect(minutePartition(sut)).toMatchObject({
      name: 'key_usage_minutes_p20260228',
      from: new Date('2026-02-28T00:00:00Z'),
      to: new Date('2026-03-01T00:00:00Z'),
    });
    expect(hourPartition(sut)).toMatchObject({
      name: 'key_usage_hours_p202602',
      from: new Date('2026-02-01T00:00:00Z'),
      to: new Date('2026-03-01T00:00:00Z'),
    });
    expect(hourPartition(Date.parse('2026-12-15T00:00:00Z')).to).toEqual(new Date('2027-01-01T00:00:00Z'));
  });

  it('reads back where a partition’s range ends from its name alone, and nothing from other names', () => {
    expect(partitionRangeEnd('key_usage_minutes_p20261231')).toBe(Date.parse('2027-01-01T00:00:00Z'));
    expect(partitionRangeEnd('key_usage_hours_p202612')).toBe(Date.parse('2027-01-01T00:00:00Z'));
    expect(partitionRangeEnd('key_usage_minutes_other')).toBeUndefined();
    expect(partitionRangeEnd('key_usage_minutes_p2026123')).toBeUndefined();
  });

  it('starts months in UTC', () => {
    expect(startOfUtcMonth(Date.parse('2026-03-01T00:30:00+02:00'))).toBe(Date.parse('2026-02-01T00:00:00Z'));
  });
});
