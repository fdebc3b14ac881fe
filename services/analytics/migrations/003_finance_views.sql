-- Views finance and the dashboards read; nobody reads the raw event tables directly.

-- One row per message: its forward-only state (see 002) with delivered implied by read.
CREATE OR REPLACE VIEW {db}.v_messages AS
SELECT
    msg_key,
    any(wamid) AS wamid,
    max(job_id) AS job_id,
    max(campaign_id) AS campaign_id,
    max(template) AS template,
    max(category) AS category,
    max(sender) AS sender,
    max(country) AS country,
    max(rank) AS state_rank,
    multiIf(state_rank = 4, 'failed', state_rank = 3, 'read', state_rank = 2, 'delivered', state_rank = 1, 'sent', 'unknown') AS status,
    min(requested_at) AS first_requested_at,
    min(sent_at) AS first_sent_at,
    min(delivered_at) AS first_delivered_at,
    min(read_at) AS first_read_at,
    min(failed_at) AS first_failed_at,
    if(first_delivered_at IS NULL, first_read_at, if(first_read_at IS NULL, first_delivered_at, least(first_delivered_at, first_read_at))) AS reached_at,
    max(fail_code) AS fail_code,
    max(fail_reason) AS fail_reason
FROM {db}.message_state
GROUP BY msg_key;

-- Delivery rate = delivered (or read) / (delivered + failed); messages still only "sent" are pending
-- and excluded from the rate until they resolve.
CREATE OR REPLACE VIEW {db}.v_delivery_rate_hourly AS
SELECT
    toStartOfHour(first_sent_at) AS hour,
    template,
    campaign_id,
    country,
    count() AS messages,
    countIf(state_rank IN (2, 3)) AS delivered,
    countIf(state_rank = 3) AS read,
    countIf(state_rank = 4) AS failed,
    countIf(state_rank = 1) AS pending,
    if(delivered + failed = 0, NULL, delivered / (delivered + failed)) AS delivery_rate
FROM {db}.v_messages
WHERE first_sent_at IS NOT NULL
GROUP BY hour, template, campaign_id, country;

-- One row per billable unit after de-duplication.
CREATE OR REPLACE VIEW {db}.v_charges AS
SELECT * FROM {db}.charges FINAL;

-- Spend per UTC day of pricing (conversation start under CBP, delivery under PMP).
CREATE OR REPLACE VIEW {db}.v_daily_spend AS
SELECT
    toDate(c.priced_at) AS day,
    c.country AS country,
    c.category AS category,
    c.pricing_model AS pricing_model,
    c.phone_number_id AS sender,
    j.job_campaign AS campaign_id,
    countIf(c.billable = 1) AS billable_units,
    countIf(c.billable = 0) AS free_units,
    countIf(c.unpriced = 1) AS unpriced_units,
    sum(c.cost_micros) AS spend_micros,
    toDecimal128(sum(c.cost_micros), 6) / 1000000 AS spend_usd
FROM {db}.charges AS c FINAL
LEFT JOIN
(
    SELECT job_id, max(campaign_id) AS job_campaign
    FROM {db}.send_attempts
    WHERE campaign_id != ''
    GROUP BY job_id
) AS j ON c.job_id = j.job_id
GROUP BY day, country, category, pricing_model, sender, campaign_id;

-- Failures at every stage: refused or failed by the dispatcher, failed by Meta after acceptance,
-- and dead-lettered records.
CREATE OR REPLACE VIEW {db}.v_failure_reasons AS
SELECT toDate(occurred_at) AS day, 'dispatch' AS stage, toString(outcome) AS outcome, error_code, reason, campaign_id, count() AS failures
FROM {db}.send_attempts FINAL
WHERE outcome IN ('failed', 'rejected', 'expired', 'unknown', 'cancelled')
GROUP BY day, stage, outcome, error_code, reason, campaign_id
UNION ALL
SELECT toDate(first_failed_at) AS day, 'webhook' AS stage, 'failed' AS outcome, fail_code AS error_code, fail_reason AS reason, campaign_id, count() AS failures
FROM {db}.v_messages
WHERE state_rank = 4
GROUP BY day, stage, outcome, error_code, reason, campaign_id
UNION ALL
SELECT toDate(occurred_at) AS day, concat('dlq:', toString(service)) AS stage, 'dead_letter' AS outcome, error_code, toString(reason) AS reason, campaign_id, count() AS failures
FROM {db}.dead_letters FINAL
GROUP BY day, stage, outcome, error_code, reason, campaign_id;

-- 30-day projection: spend of the trailing 7 complete UTC days, scaled by 30/7 (rounded down to
-- the micro-dollar), per market, category and model.
CREATE OR REPLACE VIEW {db}.v_cost_projection_30d AS
SELECT
    country,
    category,
    pricing_model,
    countIf(billable = 1) AS trailing_7d_billable_units,
    sum(cost_micros) AS trailing_7d_micros,
    intDiv(sum(cost_micros) * 30, 7) AS projected_30d_micros,
    toDecimal128(intDiv(sum(cost_micros) * 30, 7), 6) / 1000000 AS projected_30d_usd
FROM {db}.charges FINAL
WHERE priced_at >= toDateTime64(today() - 7, 3, 'UTC') AND priced_at < toDateTime64(today(), 3, 'UTC')
GROUP BY country, category, pricing_model;
