-- Per-message pricing with Meta's volume tiers applied. Charges are priced at the base tier when
-- they are written (the rate of a message depends on how many came before it in the month, which
-- an out-of-order stream cannot know), so this view re-prices each month at query time from the
-- rate card's tier rows: the k-th billable PMP message of a month (1-based) in a pricing market
-- and category costs the rate of the tier with the largest volume_tier_from below k.
-- Volume is counted per UTC month, pricing market (the country, or ZZ where the card priced the
-- country as rest of world) and category, across everything this deployment sends: Meta counts it
-- per business portfolio, and a deployment serves one. A month that spans a card change keeps
-- counting across it: the messages under the later card continue the month's volume.
-- Reads the spend_daily roll-up (a full scan of charges took ~1 s over 10 M rows), and re-prices
-- one row per (month, market, category, card).
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
    segments AS (
        SELECT
            toStartOfMonth(day) AS month,
            if((country, category, rate_effective_from) IN (SELECT country, category, eff FROM own_markets), country, 'ZZ') AS market,
            category,
            rate_effective_from AS eff,
            toInt64(sum(billable_units)) AS messages,
            toInt64(sum(spend_micros)) AS base_cost_micros
        FROM {db}.spend_daily
        WHERE pricing_model = 'PMP' AND rate_effective_from != ''
        GROUP BY month, market, category, eff
        HAVING messages > 0
    ),
    positioned AS (
        SELECT
            *,
            sum(messages) OVER (PARTITION BY month, market, category ORDER BY eff ASC
                ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) - messages AS start
        FROM segments
    ),
    priced AS (
        SELECT
            s.month AS month,
            s.market AS market,
            s.category AS category,
            s.eff AS eff,
            any(s.messages) AS seg_messages,
            any(s.base_cost_micros) AS seg_base_micros,
            sum(t.rate_micros * greatest(toInt64(0),
                least(s.start + s.messages, t.tier_to) - greatest(s.start, t.tier_from))) AS seg_tiered_micros
        FROM positioned AS s
        INNER JOIN tiers AS t ON t.market = s.market AND t.category = s.category AND t.eff = s.eff
        GROUP BY month, market, category, eff
    )
SELECT
    month,
    market,
    category,
    sum(seg_messages) AS billable_messages,
    sum(seg_base_micros) AS base_cost_micros,
    sum(seg_tiered_micros) AS tiered_cost_micros,
    sum(seg_base_micros) - sum(seg_tiered_micros) AS volume_discount_micros,
    toDecimal128(sum(seg_tiered_micros), 6) / 1000000 AS tiered_cost_usd
FROM priced
GROUP BY month, market, category;
