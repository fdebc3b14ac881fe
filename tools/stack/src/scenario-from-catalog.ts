import type { Catalog } from '@wa/shared';

export interface SimTuning {
  appSecret: string;
  accessTokens: ReadonlyMap<string, string>;
  seed?: number;
  pricingModel?: 'CBP' | 'PMP';
  /** Delays of the status webhooks the simulator sends back, in ms. */
  delaysMs?: { sent: [number, number]; delivered: [number, number]; read: [number, number] };
  population?: Record<string, unknown>;
  faults?: Record<string, unknown>;
  webhooks?: Record<string, unknown>;
  /** Templates as Meta lists them (components), added to a business account's world; a same-named catalogue one is replaced. */
  templates?: Array<{ wabaId: string; template: { name: string; language: string } & Record<string, unknown> }>;
}

/**
 * Derives the simulator's world from the deployment catalogue, so the demo, the benchmark and the
 * services agree on numbers, limits and templates by construction.
 */
export function scenarioFromCatalog(catalog: Catalog, tuning: SimTuning): Record<string, unknown> {
  const extra = (wabaId: string) => (tuning.templates ?? []).filter((t) => t.wabaId === wabaId).map((t) => t.template);
  const portfolios = new Map<string, Catalog['businesses']>();
  for (const business of catalog.businesses) {
    portfolios.set(business.portfolioId, [...(portfolios.get(business.portfolioId) ?? []), business]);
  }
  const businesses = [...portfolios].map(([portfolioId, members]) => {
    // `null` in the catalogue means unlimited: keep it apart from "missing" (`??` would turn it into 250).
    const limit = members[0]!.messagingLimit;
    return {
      id: portfolioId,
      messagingLimit: limit === null ? 'unlimited' : limit,
      wabas: members.map((b) => {
        const token = tuning.accessTokens.get(b.wabaId);
        if (!token) throw new Error(`no access token for business account ${b.wabaId}`);
        return {
          id: b.wabaId,
          accessTokens: [token],
          phoneNumbers: catalog.phoneNumbers
            .filter((n) => n.wabaId === b.wabaId)
            .map((n) => ({ id: n.id, displayPhoneNumber: n.displayNumber, throughputMps: n.throughputMps })),
          templates: catalog.templates
            .filter((t) => t.wabaId === b.wabaId && !extra(b.wabaId).some((x) => x.name === t.name && x.language === t.language))
            .map((t): Record<string, unknown> => ({
              name: t.name,
              language: t.language,
              category: t.category,
              status: t.status === 'APPROVED' || t.status === 'PAUSED' || t.status === 'DISABLED' ? t.status : 'DISABLED',
              params: { header: t.headerParams, body: t.bodyParams, buttons: Array.from({ length: t.buttonParams }, () => 1) },
            }))
            .concat(extra(b.wabaId)),
        };
      }),
    };
  });
  return {
    seed: tuning.seed ?? 7,
    appSecret: tuning.appSecret,
    pricing: { model: tuning.pricingModel ?? 'PMP' },
    businesses,
    ...(tuning.population ? { population: tuning.population } : {}),
    ...(tuning.faults ? { faults: tuning.faults } : {}),
    webhooks: { ...(tuning.delaysMs ? { delaysMs: tuning.delaysMs } : {}), ...(tuning.webhooks ?? {}) },
  };
}
