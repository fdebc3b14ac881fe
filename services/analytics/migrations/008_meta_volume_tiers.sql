-- Meta's own volume tier, when it announced one, prices the month instead of the tier counted here.
-- Meta sends account_update VOLUME_BASED_PRICING_TIER_UPDATE when a business reaches a new volume
-- tier of a pricing category in a market during a month (volume_tier_info: tier "25001:100000",
-- pricing_category, region, effective_month, tier_update_time):
-- https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/account_update
-- Meta counts the tier per business portfolio, including messages other apps send for it, so its
-- announcement is the tier Meta bills even when this deployment has counted fewer messages.

-- One row per announcement, written by the analytics consumer from wa.events.account
-- (domain/volume-tier.ts). market is the rate card's ISO code for Meta's region ('' when the
-- region is a multi-country market); tier_first is the first message of the month the tier covers.
CREATE TABLE IF NOT EXISTS {db}.volume_tiers
(
    event_id String,
    waba_id LowCardinality(String),
    region String,
    market LowCardinality(String),
    category LowCardinality(String),
    effective_month Date,
    tier String,
    tier_first UInt64,
    tier_update_time DateTime('UTC'),
    received_at DateTime64(3, 'UTC'),
    ingested_at DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree
ORDER BY (effective_month, market, category, event_id)
SETTINGS non_replicated_deduplication_window = 1000;

-- As migration 005, with Meta's announcements: each UTC day of a month is priced either by the
-- count (days before Meta announced a tier for that month, market and category: the k-th message
-- costs the rate of the card tier with the largest volume_tier_from below k) or by the tier Meta
-- announced last (every message of the day at the rate of the card tier holding message number
-- tier_first). An announcement applies from the UTC day after its tier_update_time (the roll-up is
-- daily; on that day the count decides); several on one day: the highest. The announcements of
-- every WABA of the deployment apply, as the count covers them all (one portfolio per database).
-- tier_source says which priced the row: 'meta' (meta_tier is Meta's tier string) or 'counted'.
CREATE OR REPLACE VIEW {db}.v_monthly_cost_volume_tiered AS
WITH
    own_markets AS (
        SELECT country, category, toString(effective_from) AS eff
        FROM {db}.rate_card FINAL
        WHERE pricing_model = 'PMP' AND volume_tier_from = 0
    ),
    tiers AS (
        SELECT
            country AS market,
            category,
            toString(effective_from) AS eff,
            toInt64(volume_tier_from) AS tier_from,
            toInt64(leadInFrame(volume_tier_from, 1, toUInt64(1000000000000000000)) OVER (
                PARTITION BY country, category, effective_from ORDER BY volume_tier_from ASC
                ROWS BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING)) AS tier_to,
            toInt64(rate_micros) AS rate_micros
        FROM {db}.rate_card FINAL
        WHERE pricing_model = 'PMP'
    ),
    announced AS (
        SELECT
            effective_month AS month,
            market,
            category,
            toDate(tier_update_time) AS update_day,
            toInt64(max(tier_first)) AS meta_first,
            argMax(tier, tier_first) AS meta_tier
        FROM {db}.volume_tiers FINAL
        WHERE market != ''
        GROUP BY month, market, category, update_day
    ),
    days AS (
        SELECT
            day,
            toStartOfMonth(day) AS month,
            if((country, category, rate_effective_from) IN (SELECT country, category, eff FROM own_markets), country, 'ZZ') AS market,
            category,
            rate_effective_from AS eff,
            toInt64(sum(billable_units)) AS messages,
            toInt64(sum(spend_micros)) AS base_cost_micros
        FROM {db}.spend_daily
        WHERE pricing_model = 'PMP' AND rate_effective_from != ''
        GROUP BY day, month, market, category, eff
        HAVING messages > 0
    ),
    segments AS (
        SELECT
            d.month AS month,
            d.market AS market,
            d.category AS category,
            d.eff AS eff,
            ifNull(a.meta_tier, '') AS meta_tier,
            ifNull(a.meta_first, 0) AS meta_first,
            sum(d.messages) AS messages,
            sum(d.base_cost_micros) AS base_cost_micros
        FROM days AS d
        ASOF LEFT JOIN announced AS a ON d.month = a.month AND d.market = a.market AND d.category = a.category AND d.day > a.update_day
        GROUP BY month, market, category, eff, meta_tier, meta_first
    ),
    positioned AS (
        SELECT
            *,
            sum(messages) OVER (PARTITION BY month, market, category, meta_tier ORDER BY eff ASC
                ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) - messages AS start
        FROM segments
    ),
    priced AS (
        SELECT
            s.month AS month,
            s.market AS market,
            s.category AS category,
            s.eff AS eff,
            s.meta_tier AS meta_tier,
            any(s.messages) AS seg_messages,
            any(s.base_cost_micros) AS seg_base_micros,
            sum(if(s.meta_first = 0,
                t.rate_micros * greatest(toInt64(0), least(s.start + s.messages, t.tier_to) - greatest(s.start, t.tier_from)),
                if(t.tier_from < s.meta_first AND s.meta_first <= t.tier_to, t.rate_micros * s.messages, toInt64(0)))) AS seg_tiered_micros
        FROM positioned AS s
        INNER JOIN tiers AS t ON t.market = s.market AND t.category = s.category AND t.eff = s.eff
        GROUP BY month, market, category, eff, meta_tier
    )
SELECT
    month,
    market,
    category,
    if(meta_tier = '', 'counted', 'meta') AS tier_source,
    meta_tier,
    sum(seg_messages) AS billable_messages,
    sum(seg_base_micros) AS base_cost_micros,
    sum(seg_tiered_micros) AS tiered_cost_micros,
    sum(seg_base_micros) - sum(seg_tiered_micros) AS volume_discount_micros,
    toDecimal128(sum(seg_tiered_micros), 6) / 1000000 AS tiered_cost_usd
FROM priced
GROUP BY month, market, category, tier_source, meta_tier;
