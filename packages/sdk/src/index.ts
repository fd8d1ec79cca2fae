export {
  ScaiBunkerClient, type ListOptions, type ModuleScope, type ModuleSettingResult, type ModuleConfig, type CreatedWorker, type CallOptions, type StartBody, type UsageQuery,
} from './client.js';
export { type ClientOptions, type Page, type BodyBytes } from './http-transport.js';
export { ProcessesApi, type ProcessEvent, type ProcessExit, type OutputOptions } from './processes-api.js';
export { QuotasApi, type QuotaUsageOptions } from './quotas-api.js';
export { BridgesApi } from './bridges-api.js';
export { FilesApi, type FileType, type FileStat, type FileEntry, type FileListing, type WriteOptions } from './files-api.js';
export { BunkerShell, type ShellOptions, type ShellClosed } from './bunker-shell.js';
export {
  ScaiError, ERROR_CATALOGUE, type ErrorCode, type ErrorDetail,
  type Bunker, type BunkerListQuery, type CreateBunkerBody, type ExecBody, type ExecResult, type Worker, type CreateWorkerBody, type ProcessInfo,
  type QuotaProfile, type QuotaAssignment, type QuotaUsageRow, type CreateQuotaProfileBody, type UpdateQuotaProfileBody, type CreateQuotaAssignmentBody,
  type UsageReport, type BunkerNetwork, type NetworkDenial, type EgressFlow, type BunkerInterface, type Bridge, type CreateBridgeBody,
} from '@scaibunker/contracts';
