import { AppliedRangeEntity } from './applied-range.entity.js';
import { KeyUsageMinuteEntity } from './key-usage-minute.entity.js';
import { StreamStateEntity } from './stream-state.entity.js';

export { AppliedRangeEntity, KeyUsageMinuteEntity, StreamStateEntity };

export const USAGE_TRACKER_ENTITIES = [KeyUsageMinuteEntity, AppliedRangeEntity, StreamStateEntity];
