import { AppliedRangeEntity } from './applied-range.entity.js';
import { KeyLastUsedEntity } from './key-last-used.entity.js';
import { KeyUsageMinuteEntity } from './key-usage-minute.entity.js';
import { StreamStateEntity } from './stream-state.entity.js';

export { AppliedRangeEntity, KeyLastUsedEntity, KeyUsageMinuteEntity, StreamStateEntity };

export const USAGE_TRACKER_ENTITIES = [KeyUsageMinuteEntity, KeyLastUsedEntity, AppliedRangeEntity, StreamStateEntity];
