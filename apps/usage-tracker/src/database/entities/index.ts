import { AppliedMessageEntity } from './applied-message.entity.js';
import { KeyLastUsedEntity } from './key-last-used.entity.js';
import { KeyUsageMinuteEntity } from './key-usage-minute.entity.js';
import { StreamStateEntity } from './stream-state.entity.js';

export { AppliedMessageEntity, KeyLastUsedEntity, KeyUsageMinuteEntity, StreamStateEntity };

export const USAGE_TRACKER_ENTITIES = [KeyUsageMinuteEntity, KeyLastUsedEntity, AppliedMessageEntity, StreamStateEntity];
