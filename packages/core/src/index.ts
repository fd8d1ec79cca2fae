export * from './actor.js';
export * from './access-policy.js';
export * from './role-permissions.js';
export * from './module-state.js';
export * from './group-graph.js';
export * from './ids.js';
export * from './api-key-secret.js';
export * from './cursor.js';
