import { formatIssues, notificationRequestV1, type NotificationRequestV1 } from '@wa/shared';

export interface SendOptions {
  to?: string | undefined;
  audience?: string | undefined;
  template?: string | undefined;
  language?: string | undefined;
  category?: string | undefined;
  params?: string | undefined;
  text?: string | undefined;
  sender: string;
  key?: string | undefined;
  campaign?: string | undefined;
  expiresIn?: string | undefined;
  now?: Date;
}

export type BuildResult = { ok: true; request: NotificationRequestV1 } | { ok: false; error: string };

/**
 * Turns command-line options into a notification request, validated by the same schema ingest
 * uses, so a typo is reported here with the field's name rather than dead-lettered later.
 * `--sender` is a phone number id (digits) or `pool:NAME`.
 */
export function buildNotificationRequest(options: SendOptions): BuildResult {
  const sender = options.sender.startsWith('pool:') ? { pool: options.sender.slice(5) } : { phoneNumberId: options.sender };
  const now = options.now ?? new Date();
  const candidate: Record<string, unknown> = {
    v: 1,
    idempotencyKey: options.key ?? `cli-${now.getTime()}-${Math.random().toString(36).slice(2, 10)}`,
    sender,
  };
  if (options.to !== undefined) candidate.to = options.to;
  if (options.audience !== undefined) {
    candidate.audience = { path: options.audience, format: options.audience.endsWith('.csv') ? 'csv' : 'ndjson' };
  }
  if (options.template !== undefined) {
    candidate.template = {
      name: options.template,
      language: options.language ?? 'en_US',
      category: options.category ?? 'utility',
      ...(options.params ? { bodyParams: options.params.split(',').map((p) => p.trim()) } : {}),
    };
  }
  if (options.text !== undefined) candidate.text = { body: options.text };
  if (options.campaign !== undefined) candidate.campaignId = options.campaign;
  if (options.expiresIn !== undefined) {
    const seconds = Number(options.expiresIn);
    if (!Number.isFinite(seconds) || seconds <= 0) return { ok: false, error: '--expires-in takes a number of seconds' };
    candidate.expiresAt = new Date(now.getTime() + seconds * 1000).toISOString();
  }
  const parsed = notificationRequestV1.safeParse(candidate);
  if (!parsed.success) return { ok: false, error: formatIssues(parsed.error) };
  return { ok: true, request: parsed.data };
}
