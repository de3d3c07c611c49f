export * from './api-key-format.js';
export * from './auth.js';
export * from './error-codes.js';
export * from './events.js';
export * from './management.js';
export * from './subject-map.js';
export * from './subjects.js';
export * from './usage.js';
