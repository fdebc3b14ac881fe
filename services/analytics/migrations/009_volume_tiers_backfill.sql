-- Meta's tier announcements that analytics recorded in account_events before migration 008 (the
-- consumer has moved past them on wa.events.account), copied into volume_tiers exactly as
-- domain/volume-tier.ts maps them; test/integration/volume-tiers.int.test.ts checks both agree.
-- Re-running inserts the same keys again, which volume_tiers (ReplacingMergeTree, read FINAL) absorbs.
INSERT INTO {db}.volume_tiers (event_id, waba_id, region, market, category, effective_month, tier, tier_first, tier_update_time, received_at)
SELECT event_id, waba_id, region, market, category, toDate(concat(month, '-01')), tier, tier_first, toDateTime(update_s, 'UTC'), received_at
FROM
(
    SELECT
        event_id,
        waba_id,
        received_at,
        JSONExtractRaw(value, 'volume_tier_info') AS info,
        substring(trimBoth(JSONExtractString(info, 'region')), 1, 100) AS region,
        replaceRegexpAll(upper(region), '[\\s-]+', '_') AS region_key,
        if(match(region_key, '^[A-Z]{2}$'), region_key, transform(region_key,
            ['ARGENTINA', 'BRAZIL', 'CHILE', 'COLOMBIA', 'EGYPT', 'FRANCE', 'GERMANY', 'INDIA', 'INDONESIA', 'ISRAEL', 'ITALY', 'MALAYSIA',
             'MEXICO', 'NETHERLANDS', 'NIGERIA', 'PAKISTAN', 'PERU', 'RUSSIA', 'SAUDI_ARABIA', 'SOUTH_AFRICA', 'SPAIN', 'TURKEY',
             'UNITED_ARAB_EMIRATES', 'UNITED_KINGDOM'],
            ['AR', 'BR', 'CL', 'CO', 'EG', 'FR', 'DE', 'IN', 'ID', 'IL', 'IT', 'MY', 'MX', 'NL', 'NG', 'PK', 'PE', 'RU', 'SA', 'ZA', 'ES', 'TR', 'AE', 'GB'],
            '')) AS market,
        lower(trimBoth(JSONExtractString(info, 'pricing_category'))) AS category,
        trimBoth(JSONExtractString(info, 'effective_month')) AS month,
        replaceRegexpAll(JSONExtractString(info, 'tier'), '\\s', '') AS tier,
        toUInt64OrZero(splitByChar(':', tier)[1]) AS tier_first,
        toUInt64OrZero(splitByChar(':', tier)[2]) AS tier_last,
        toUInt64(floor(toFloat64OrZero(trimBoth(JSONExtractRaw(info, 'tier_update_time'), '"')))) AS update_s
    FROM {db}.account_events FINAL
    WHERE event = 'VOLUME_BASED_PRICING_TIER_UPDATE'
)
WHERE match(tier, '^\\d{1,15}:\\d{0,15}$') AND tier_first >= 1 AND (tier_last = 0 OR tier_last >= tier_first)
  AND match(category, '^[a-z_]{1,40}$') AND match(month, '^\\d{4}-(0[1-9]|1[0-2])$') AND update_s > 0;
