import { AppliedRangeEntity } from './applied-range.entity.js';
import { KeyUsageMinuteEntity } from './key-usage-minute.entity.js';
import { KeyUsageDayEntity, KeyUsageHourEntity, KeyUsageLateEntity, UsageRollupStateEntity } from './key-usage-rollup.entities.js';
import { StreamStateEntity } from './stream-state.entity.js';

export {
  AppliedRangeEntity,
  KeyUsageDayEntity,
  KeyUsageHourEntity,
  KeyUsageLateEntity,
  KeyUsageMinuteEntity,
  StreamStateEntity,
  UsageRollupStateEntity,
};

export const USAGE_TRACKER_ENTITIES = [
  KeyUsageMinuteEntity,
  KeyUsageHourEntity,
  KeyUsageDayEntity,
  KeyUsageLateEntity,
  UsageRollupStateEntity,
  AppliedRangeEntity,
  StreamStateEntity,
];
