-- Roll-ups that finance views, the HTTP API and the dashboard read, so no query scans millions of
-- raw rows. Each roll-up day is recomputed from the de-duplicated base tables (adapters/rollups.ts)
-- whenever the consumer marks it dirty, and swapped in atomically with REPLACE PARTITION: a day is
-- always either the old or the new complete figure, and replays can never double-count.

CREATE TABLE IF NOT EXISTS {db}.rollup_dirty
(
    kind LowCardinality(String),
    day Date,
    marked_at DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = MergeTree
ORDER BY (kind, day)
TTL toDateTime(marked_at) + INTERVAL 40 DAY;

CREATE TABLE IF NOT EXISTS {db}.rollup_done
(
    kind LowCardinality(String),
    day Date,
    done_at DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(done_at)
ORDER BY (kind, day);

CREATE TABLE IF NOT EXISTS {db}.spend_daily
(
    day Date,
    country LowCardinality(String),
    category LowCardinality(String),
    pricing_model LowCardinality(String),
    sender LowCardinality(String),
    campaign_id String,
    free_type LowCardinality(String),
    rate_effective_from LowCardinality(String),
    rate_micros UInt64,
    billable_units UInt64,
    free_units UInt64,
    unpriced_units UInt64,
    spend_micros UInt64
)
ENGINE = MergeTree
PARTITION BY day
ORDER BY (day, country, category, pricing_model, sender, campaign_id, free_type, rate_effective_from, rate_micros);

CREATE TABLE IF NOT EXISTS {db}.spend_daily_staging AS {db}.spend_daily;

CREATE TABLE IF NOT EXISTS {db}.delivery_hourly
(
    hour DateTime('UTC'),
    campaign_id String,
    template LowCardinality(String),
    country LowCardinality(String),
    sender LowCardinality(String),
    category LowCardinality(String),
    messages UInt64,
    delivered UInt64,
    read UInt64,
    failed UInt64,
    pending UInt64
)
ENGINE = MergeTree
PARTITION BY toDate(hour)
ORDER BY (hour, campaign_id, template, country, sender, category);

CREATE TABLE IF NOT EXISTS {db}.delivery_hourly_staging AS {db}.delivery_hourly;

CREATE TABLE IF NOT EXISTS {db}.failures_daily
(
    day Date,
    stage LowCardinality(String),
    outcome LowCardinality(String),
    error_code Int32,
    reason String,
    campaign_id String,
    failures UInt64
)
ENGINE = MergeTree
PARTITION BY day
ORDER BY (day, stage, outcome, error_code, reason, campaign_id);

CREATE TABLE IF NOT EXISTS {db}.failures_daily_staging AS {db}.failures_daily;

-- The roll-up rows themselves, with free types and the rates used (reconciliation queries).
CREATE OR REPLACE VIEW {db}.v_spend_detail AS
SELECT * FROM {db}.spend_daily;

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
    toDecimal128(spend_micros, 6) / 1000000 AS spend_usd
FROM {db}.spend_daily
GROUP BY day, country, category, pricing_model, sender, campaign_id;

CREATE OR REPLACE VIEW {db}.v_delivery_rate_hourly AS
SELECT
    hour,
    template,
    campaign_id,
    country,
    sum(messages) AS messages,
    sum(delivered) AS delivered,
    sum(read) AS read,
    sum(failed) AS failed,
    sum(pending) AS pending,
    if(delivered + failed = 0, NULL, delivered / (delivered + failed)) AS delivery_rate
FROM {db}.delivery_hourly
GROUP BY hour, template, campaign_id, country;

CREATE OR REPLACE VIEW {db}.v_failure_reasons AS
SELECT day, stage, outcome, error_code, reason, campaign_id, sum(failures) AS failures
FROM {db}.failures_daily
GROUP BY day, stage, outcome, error_code, reason, campaign_id;

CREATE OR REPLACE VIEW {db}.v_cost_projection_30d AS
SELECT
    country,
    category,
    pricing_model,
    sum(billable_units) AS trailing_7d_billable_units,
    sum(spend_micros) AS trailing_7d_micros,
    intDiv(sum(spend_micros) * 30, 7) AS projected_30d_micros,
    toDecimal128(intDiv(sum(spend_micros) * 30, 7), 6) / 1000000 AS projected_30d_usd
FROM {db}.spend_daily
WHERE day >= today() - 7 AND day < today()
GROUP BY country, category, pricing_model;
