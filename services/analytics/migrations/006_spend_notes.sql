-- Daily spend with a note on rows finance would otherwise have to guess about: units without a
-- price (no rate card row for that model/country/category on that day) and spend that belongs to
-- no campaign (one-off sends such as OTPs, API sends without campaignId).
CREATE OR REPLACE VIEW {db}.v_daily_spend AS
SELECT
    day,
    country,
    category,
    pricing_model,
    sender,
    campaign_id,
    sum(billable_units) AS billable_units,
    sum(free_units) AS free_units,
    sum(unpriced_units) AS unpriced_units,
    sum(spend_micros) AS spend_micros,
    toDecimal128(spend_micros, 6) / 1000000 AS spend_usd,
    arrayStringConcat(arrayFilter(x -> x != '', [
        if(unpriced_units > 0, concat('unpriced: no rate card row for ', pricing_model, '/', country, '/', category, ' effective on ', toString(day), ' (npm run rates:load, then reprice)'), ''),
        if(campaign_id = '', 'no campaign: one-off sends (OTPs, API sends without campaignId)', '')
    ]), '; ') AS note
FROM {db}.spend_daily
GROUP BY day, country, category, pricing_model, sender, campaign_id;
