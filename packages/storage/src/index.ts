export { checkObjectKey, type ObjectStore } from './object-store.js';
export { LocalObjectStore } from './local-object-store.js';
