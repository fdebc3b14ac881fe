export { createDispatcherService, type DispatcherService, type DispatcherOverrides } from './service';
export { dispatcherEnvSchema, loadDispatcherConfig, type DispatcherConfig } from './config';
