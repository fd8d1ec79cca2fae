export * from './agent/agent-client.js';
export { AgentError } from './agent/agent-error.js';
export { VmRuntime, type VmRuntimeOptions, type VmRequest, type RuntimeVm } from './runtime/vm-runtime.js';
export type { AcceleratorChoice } from './vmm/accelerator-probe.js';
export type { RootfsSource } from './images/image-baker.js';
export type { StoredImage } from './images/image-store.js';
export { DEFAULT_CACHE_DIR } from './runtime/guest-assets.js';
