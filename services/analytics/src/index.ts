export { createAnalyticsService, analyticsTopics, type AnalyticsService } from './service';
export { loadAnalyticsConfig, analyticsEnvSchema, type AnalyticsConfig } from './config';
