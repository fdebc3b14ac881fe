export { createWebhookService, webhookTopics, type WebhookService, type WebhookServiceOverrides } from './service';
export { loadWebhookConfig, webhookEnvSchema, type WebhookConfig } from './config';
export { signBody, verifySignature } from './domain/signature';
