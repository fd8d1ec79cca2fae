export * from './database.js';
export * from './schema.js';
export * from './repositories/index.js';
export { isUniqueViolation } from './unique-violation.js';
export { RedisQuotaCounters } from './quota-counters.js';
