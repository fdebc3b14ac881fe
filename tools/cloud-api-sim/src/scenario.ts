import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { parse as parseYaml } from 'yaml';

/**
 * The simulated world: businesses (portfolios) → WABAs → phone numbers and templates, plus the
 * behaviour knobs (rules, faults, webhooks, population). Every field has a default, so `{}` is a
 * valid scenario and yields a small world other packages can rely on (see DEFAULT_* below).
 */

const MESSAGING_LIMITS = [250, 2000, 10000, 100000] as const;
export type MessagingLimit = (typeof MESSAGING_LIMITS)[number] | 'unlimited';

/** A messaging limit as scenarios and `/_sim/events` give it (-1 = unlimited, as Meta's webhooks write it). */
export const messagingLimitSchema = z.union([
  z.literal(250),
  z.literal(2000),
  z.literal(10000),
  z.literal(100000),
  z.literal('unlimited'),
  z.literal(-1).transform(() => 'unlimited' as const),
]);

const rangeMs = z.tuple([z.number().nonnegative(), z.number().nonnegative()]).refine(([a, b]) => a <= b, {
  message: 'range must be [min, max] with min <= max',
});

const fraction = z.number().min(0).max(1);

const templateSchema = z.object({
  name: z.string().min(1),
  language: z.string().min(2).default('en_US'),
  category: z.enum(['marketing', 'utility', 'authentication']),
  status: z.enum(['APPROVED', 'PAUSED', 'DISABLED']).default('APPROVED'),
  id: z.string().optional(),
  params: z
    .object({
      header: z.number().int().min(0).max(1).default(0),
      body: z.number().int().min(0).default(0),
      /** Parameter count of each button, by button index. */
      buttons: z.array(z.number().int().min(0)).default([]),
    })
    .default({ header: 0, body: 0, buttons: [] }),
  /**
   * Meta's components (HEADER/BODY/FOOTER/BUTTONS/CAROUSEL/LIMITED_TIME_OFFER) as the Message Templates
   * API lists them; when absent they are derived from `params` (see templates.ts).
   */
  components: z.array(z.record(z.string(), z.unknown())).optional(),
  parameterFormat: z.enum(['POSITIONAL', 'NAMED']).default('POSITIONAL'),
  quality: z.enum(['GREEN', 'YELLOW', 'RED', 'UNKNOWN']).default('GREEN'),
});

const phoneNumberSchema = z.object({
  id: z.string().regex(/^\d+$/, 'phone number id must be digits'),
  displayPhoneNumber: z.string().regex(/^\d{6,15}$/, 'display phone number must be 6–15 digits'),
  throughputMps: z.number().int().min(1).max(1000).default(80),
  quality: z.enum(['GREEN', 'YELLOW', 'RED']).default('GREEN'),
});

const wabaSchema = z.object({
  id: z.string().regex(/^\d+$/, 'WABA id must be digits'),
  accessTokens: z.array(z.string().min(8)).min(1),
  phoneNumbers: z.array(phoneNumberSchema).min(1),
  templates: z.array(templateSchema).default([]),
});

const businessSchema = z.object({
  id: z.string().min(1),
  messagingLimit: messagingLimitSchema.default(10000),
  wabas: z.array(wabaSchema).min(1),
});

const latencySchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('none') }),
  z.object({ kind: z.literal('fixed'), ms: z.number().nonnegative() }),
  z.object({ kind: z.literal('uniform'), minMs: z.number().nonnegative(), maxMs: z.number().nonnegative() }),
  /** Log-normal fitted to a median and a p99, the usual shape of network latency. */
  z.object({ kind: z.literal('lognormal'), medianMs: z.number().positive(), p99Ms: z.number().positive() }),
]);

const scriptedEventSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('phone_number_quality_update'),
    atMs: z.number().nonnegative(),
    phoneNumberId: z.string(),
    event: z.string(),
    quality: z.enum(['GREEN', 'YELLOW', 'RED']).optional(),
    messagingLimit: messagingLimitSchema.optional(),
  }),
  z.object({
    type: z.literal('business_capability_update'),
    atMs: z.number().nonnegative(),
    businessId: z.string(),
    messagingLimit: messagingLimitSchema,
  }),
  z.object({
    type: z.literal('message_template_status_update'),
    atMs: z.number().nonnegative(),
    wabaId: z.string(),
    name: z.string(),
    language: z.string().default('en_US'),
    event: z.enum(['APPROVED', 'PAUSED', 'DISABLED', 'REJECTED', 'PENDING_DELETION', 'REINSTATED', 'FLAGGED']),
    reason: z.string().default('NONE'),
  }),
  z.object({
    type: z.literal('account_update'),
    atMs: z.number().nonnegative(),
    wabaId: z.string(),
    value: z.record(z.string(), z.unknown()),
  }),
  z.object({
    type: z.literal('inbound'),
    atMs: z.number().nonnegative(),
    phoneNumberId: z.string(),
    from: z.string().regex(/^\d{6,15}$/),
    text: z.string().default('Hi'),
  }),
]);

export const scenarioSchema = z.object({
  seed: z.number().int().default(1),
  appSecret: z.string().min(8).default('sim-app-secret'),
  /** Sim-time runs this many times faster than wall time (24 h windows in seconds for tests). */
  timeScale: z.number().positive().default(1),
  pricing: z
    .object({
      model: z.enum(['CBP', 'PMP']).default('PMP'),
      /**
       * Under PMP, Graph API v24 status webhooks carry a `conversation` object only for free entry
       * points (the default); `true` sends it on every sent/delivered status as v23 and earlier did.
       */
      pmpConversationObject: z.boolean().default(false),
    })
    .default({ model: 'PMP', pmpConversationObject: false }),
  /**
   * `meta`: errors Meta reports after accepting (undeliverable, re-engagement, marketing opt-out,
   * experiment, ecosystem throttle) come back as HTTP 200 then a `failed` status webhook.
   * `sync`: every refusal is an HTTP error on the send call.
   */
  errorDelivery: z.enum(['meta', 'sync']).default('meta'),
  /**
   * Template pacing of new marketing templates (quality UNKNOWN): `threshold` sends go out, the rest
   * are held (`message_status: held_for_quality_assessment`) for `assessmentMs`, then released or
   * dropped (`verdict: pause`, the template paused, 132015).
   * https://developers.facebook.com/documentation/business-messaging/whatsapp/templates/template-pacing
   */
  templatePacing: z
    .object({
      threshold: z.number().int().min(0).default(1000),
      assessmentMs: z
        .number()
        .positive()
        .default(15 * 60_000),
      verdict: z.enum(['release', 'pause']).default('release'),
    })
    .default({ threshold: 1000, assessmentMs: 15 * 60_000, verdict: 'release' }),
  rules: z
    .object({
      throughputWindowMs: z.number().positive().default(1000),
      /**
       * One message per 6 s to the same person, bursts of up to 45 borrowed from later quota (Meta's
       * pair rate limit, 131056): https://developers.facebook.com/documentation/business-messaging/whatsapp/throughput
       */
      pairRate: z
        .object({ burst: z.number().int().min(1).default(45), intervalMs: z.number().nonnegative().default(6000) })
        .default({ burst: 45, intervalMs: 6000 }),
      serviceWindowMs: z
        .number()
        .positive()
        .default(24 * 3600_000),
      freeEntryPointWindowMs: z
        .number()
        .positive()
        .default(72 * 3600_000),
      messagingLimitWindowMs: z
        .number()
        .positive()
        .default(24 * 3600_000),
      conversationMs: z
        .number()
        .positive()
        .default(24 * 3600_000),
      /** Code used when the portfolio's messaging limit refuses a new recipient (Meta names none precisely). */
      messagingLimitCode: z.number().int().default(131048),
    })
    .default({
      throughputWindowMs: 1000,
      pairRate: { burst: 45, intervalMs: 6000 },
      serviceWindowMs: 24 * 3600_000,
      freeEntryPointWindowMs: 72 * 3600_000,
      messagingLimitWindowMs: 24 * 3600_000,
      conversationMs: 24 * 3600_000,
      messagingLimitCode: 131048,
    }),
  faults: z
    .object({
      transientFraction: fraction.default(0),
      transientHttpStatus: z.number().int().min(500).max(599).default(500),
      ecosystemThrottleFraction: fraction.default(0),
      latency: latencySchema.default({ kind: 'none' }),
    })
    .default({ transientFraction: 0, transientHttpStatus: 500, ecosystemThrottleFraction: 0, latency: { kind: 'none' } }),
  population: z
    .object({
      notOnWhatsAppFraction: fraction.default(0.02),
      optedOutMarketingFraction: fraction.default(0.01),
      experimentFraction: fraction.default(0.005),
      replyFraction: fraction.default(0.05),
      stopFraction: fraction.default(0.005),
      readFraction: fraction.default(0.7),
      replyDelayMs: rangeMs.default([2000, 60000]),
      /** Explicit people, by phone digits, overriding the seeded draw. */
      overrides: z.record(z.string().regex(/^\d{6,15}$/), z.enum(['valid', 'not_on_whatsapp', 'opted_out', 'experiment', 'replies', 'says_stop'])).default({}),
    })
    .default({
      notOnWhatsAppFraction: 0.02,
      optedOutMarketingFraction: 0.01,
      experimentFraction: 0.005,
      replyFraction: 0.05,
      stopFraction: 0.005,
      readFraction: 0.7,
      replyDelayMs: [2000, 60000],
      overrides: {},
    }),
  webhooks: z
    .object({
      url: z.string().url().optional(),
      delaysMs: z
        .object({ sent: rangeMs.default([50, 300]), delivered: rangeMs.default([200, 2000]), read: rangeMs.default([1000, 30000]) })
        .default({ sent: [50, 300], delivered: [200, 2000], read: [1000, 30000] }),
      batchFraction: fraction.default(0.2),
      maxBatchSize: z.number().int().min(1).max(1000).default(10),
      duplicateFraction: fraction.default(0.01),
      outOfOrderFraction: fraction.default(0.02),
      skipDeliveredFraction: fraction.default(0.01),
      /** Meta escapes `/` as `\/` as well as non-ASCII as `\uXXXX`. */
      escapeSlashes: z.boolean().default(true),
      concurrency: z.number().int().min(1).max(1024).default(32),
      timeoutMs: z.number().int().positive().default(10_000),
      tickMs: z.number().int().positive().default(10),
      retry: z
        .object({
          baseMs: z.number().positive().default(1000),
          factor: z.number().min(1).default(2),
          maxDelayMs: z.number().positive().default(3600_000),
          // Meta retries with decreasing frequency for up to 7 days: the age bounds the retries, not a count
          // (1 s doubling to an hourly cap reaches 7 days after ~180 attempts).
          // https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/overview
          maxAttempts: z.number().int().min(1).default(500),
          maxAgeMs: z
            .number()
            .positive()
            .default(7 * 24 * 3600_000),
        })
        .default({ baseMs: 1000, factor: 2, maxDelayMs: 3600_000, maxAttempts: 500, maxAgeMs: 7 * 24 * 3600_000 }),
    })
    .default({
      delaysMs: { sent: [50, 300], delivered: [200, 2000], read: [1000, 30000] },
      batchFraction: 0.2,
      maxBatchSize: 10,
      duplicateFraction: 0.01,
      outOfOrderFraction: 0.02,
      skipDeliveredFraction: 0.01,
      escapeSlashes: true,
      concurrency: 32,
      timeoutMs: 10_000,
      tickMs: 10,
      retry: { baseMs: 1000, factor: 2, maxDelayMs: 3600_000, maxAttempts: 500, maxAgeMs: 7 * 24 * 3600_000 },
    }),
  businesses: z.array(businessSchema).min(1).optional(),
  events: z.array(scriptedEventSchema).default([]),
});

export type ScenarioInput = z.input<typeof scenarioSchema>;
export type Scenario = z.output<typeof scenarioSchema> & { businesses: BusinessConfig[] };
export type BusinessConfig = z.output<typeof businessSchema>;
export type WabaConfig = z.output<typeof wabaSchema>;
export type PhoneNumberConfig = z.output<typeof phoneNumberSchema>;
export type TemplateConfig = z.output<typeof templateSchema>;
export type LatencyConfig = z.output<typeof latencySchema>;
export type ScriptedEvent = z.output<typeof scriptedEventSchema>;

export const DEFAULT_ACCESS_TOKEN = 'sim-access-token-1';
export const DEFAULT_WABA_ID = '102290129340398';
export const DEFAULT_PHONE_NUMBER_IDS = ['106540352242922', '106540352242923'] as const;

/** The world used when a scenario names no businesses: one portfolio, one WABA, two numbers. */
export const DEFAULT_BUSINESSES: z.input<typeof businessSchema>[] = [
  {
    id: 'biz-1',
    messagingLimit: 10000,
    wabas: [
      {
        id: DEFAULT_WABA_ID,
        accessTokens: [DEFAULT_ACCESS_TOKEN],
        phoneNumbers: [
          { id: DEFAULT_PHONE_NUMBER_IDS[0], displayPhoneNumber: '15550783881', throughputMps: 80 },
          { id: DEFAULT_PHONE_NUMBER_IDS[1], displayPhoneNumber: '15550783882', throughputMps: 80 },
        ],
        templates: [
          { name: 'order_update', language: 'en_US', category: 'utility', params: { body: 1, buttons: [1] } },
          { name: 'order_digest', language: 'en_US', category: 'utility', params: { body: 1 } },
          { name: 'otp_code', language: 'en_US', category: 'authentication', params: { body: 1, buttons: [1] } },
          { name: 'promo_offer', language: 'en_US', category: 'marketing', params: { header: 1, body: 2 } },
          { name: 'hello_world', language: 'en_US', category: 'utility', params: {} },
          { name: 'winter_sale', language: 'en_US', category: 'marketing', status: 'PAUSED', params: { body: 1 } },
          { name: 'old_promo', language: 'en_US', category: 'marketing', status: 'DISABLED', params: { body: 1 } },
        ],
      },
    ],
  },
];

/** A scenario that failed validation; `message` names every bad field by its path. */
export class ScenarioError extends Error {
  readonly code = 'scenario_invalid';
  constructor(
    message: string,
    readonly issues: readonly { path: string; message: string }[],
  ) {
    super(message);
    this.name = 'ScenarioError';
  }
}

function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((acc, p) => (typeof p === 'number' ? `${acc}[${p}]` : acc ? `${acc}.${String(p)}` : String(p)), '');
}

/** Validates a scenario object (already parsed), applies defaults and cross-field checks. */
export function parseScenario(input: unknown, source = 'scenario'): Scenario {
  const result = scenarioSchema.safeParse(input ?? {});
  if (!result.success) {
    const issues = result.error.issues.map((i) => ({ path: formatPath(i.path) || '(root)', message: i.message }));
    throw new ScenarioError(`${source} is invalid: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, issues);
  }
  const businesses = result.data.businesses ?? z.array(businessSchema).parse(DEFAULT_BUSINESSES);
  const scenario: Scenario = { ...result.data, businesses };
  const issues: { path: string; message: string }[] = [];
  const seenPhone = new Map<string, string>();
  const seenWaba = new Map<string, string>();
  const seenToken = new Map<string, string>();
  businesses.forEach((b, bi) =>
    b.wabas.forEach((w, wi) => {
      const wp = `businesses[${bi}].wabas[${wi}]`;
      if (seenWaba.has(w.id)) issues.push({ path: `${wp}.id`, message: `duplicate WABA id ${w.id}` });
      seenWaba.set(w.id, wp);
      w.accessTokens.forEach((t, ti) => {
        if (seenToken.has(t)) issues.push({ path: `${wp}.accessTokens[${ti}]`, message: 'access token used by two WABAs' });
        seenToken.set(t, wp);
      });
      w.phoneNumbers.forEach((p, pi) => {
        if (seenPhone.has(p.id)) issues.push({ path: `${wp}.phoneNumbers[${pi}].id`, message: `duplicate phone number id ${p.id}` });
        seenPhone.set(p.id, wp);
      });
      const seenTpl = new Set<string>();
      w.templates.forEach((t, ti) => {
        const key = `${t.name}/${t.language}`;
        if (seenTpl.has(key)) issues.push({ path: `${wp}.templates[${ti}]`, message: `duplicate template ${key}` });
        seenTpl.add(key);
      });
    }),
  );
  if (issues.length > 0) {
    throw new ScenarioError(`${source} is invalid: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, issues);
  }
  return scenario;
}

/** Reads a JSON or YAML scenario file (by extension; YAML is a superset of JSON otherwise). */
export function loadScenarioFile(path: string): Scenario {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ScenarioError(`cannot read scenario file ${path}: ${(err as Error).message}`, [{ path: '(file)', message: 'unreadable' }]);
  }
  let data: unknown;
  try {
    data = path.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new ScenarioError(`scenario file ${path} is not valid ${path.endsWith('.json') ? 'JSON' : 'YAML'}: ${(err as Error).message}`, [
      { path: '(file)', message: 'unparseable' },
    ]);
  }
  return parseScenario(data, `scenario file ${path}`);
}

export { MESSAGING_LIMITS };
