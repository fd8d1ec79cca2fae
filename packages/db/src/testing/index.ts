export * from './test-database.js';
export * from './quota-fixture.js';
