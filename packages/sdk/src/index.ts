export { ScaiBunkerClient, type ListOptions, type ModuleScope, type ModuleSettingResult, type ModuleConfig, type CreatedWorker, type CallOptions } from './client.js';
export { type ClientOptions, type Page } from './http-transport.js';
export {
  ScaiError, ERROR_CATALOGUE, type ErrorCode, type ErrorDetail,
  type Bunker, type BunkerListQuery, type CreateBunkerBody, type ExecBody, type ExecResult, type Worker, type CreateWorkerBody,
} from '@scaibunker/contracts';
