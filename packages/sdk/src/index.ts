export { ScaiBunkerClient, type ListOptions, type ModuleScope, type ModuleSettingResult, type ModuleConfig } from './client.js';
export { type ClientOptions, type Page } from './http-transport.js';
export { ScaiError, ERROR_CATALOGUE, type ErrorCode, type ErrorDetail } from '@scaibunker/contracts';
