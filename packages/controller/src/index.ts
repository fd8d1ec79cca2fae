export { buildApp, type AppDependencies } from './app.js';
export { startServer, type RunningServer } from './server.js';
export { loadConfig, MODES, type ControllerConfig, type Mode } from './config.js';
export { bootstrapFirstStart, type BootstrapResult } from './bootstrap.js';
export { VERSION } from './version.js';
