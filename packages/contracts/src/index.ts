export * from './errors.js';
export * from './ids.js';
export * from './permissions.js';
export * from './modules.js';
export * from './schemas/common.js';
export * from './schemas/platform.js';
export * from './schemas/bunkers.js';
export * from './worker-link.js';
