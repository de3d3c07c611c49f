export * from './environment.js';
export * from './system.js';
