-- Raw facts, one table per topic. Every table is a ReplacingMergeTree keyed on the event id the
-- producer assigned, so a redelivered Kafka batch collapses onto the rows already there; reads go
-- through FINAL or an aggregation that is idempotent. non_replicated_deduplication_window also
-- makes ClickHouse drop a retried insert block (same insert_deduplication_token) outright.

CREATE TABLE IF NOT EXISTS {db}.send_attempts
(
    event_id String,
    job_id String,
    request_key String,
    campaign_id String,
    sender_phone_number_id LowCardinality(String),
    waba_id LowCardinality(String),
    recipient_hash String,
    recipient_country LowCardinality(String),
    template LowCardinality(String),
    category LowCardinality(String),
    lane LowCardinality(String),
    attempt UInt16,
    outcome LowCardinality(String),
    reason String,
    http_status UInt16,
    error_code Int32,
    error_class LowCardinality(String),
    wamid String,
    latency_ms Float64,
    requested_at DateTime64(3, 'UTC'),
    occurred_at DateTime64(3, 'UTC'),
    ingested_at DateTime64(3, 'UTC') DEFAULT now64(3),
    -- Campaigns are bounded in time, so a bloom filter skips most granules for one campaign.
    INDEX idx_campaign campaign_id TYPE bloom_filter GRANULARITY 2,
    INDEX idx_job job_id TYPE bloom_filter GRANULARITY 2
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(occurred_at)
ORDER BY (toDate(occurred_at), event_id)
SETTINGS non_replicated_deduplication_window = 1000;

CREATE TABLE IF NOT EXISTS {db}.status_events
(
    event_id String,
    wamid String,
    msg_key UInt64 DEFAULT cityHash64(wamid),
    status LowCardinality(String),
    rank UInt8,
    status_at DateTime64(3, 'UTC'),
    recipient_hash String,
    recipient_country LowCardinality(String),
    phone_number_id LowCardinality(String),
    waba_id LowCardinality(String),
    job_id String,
    conversation_id String,
    conversation_origin LowCardinality(String),
    conversation_expires_at Nullable(DateTime64(3, 'UTC')),
    pricing_model LowCardinality(String),
    pricing_category LowCardinality(String),
    pricing_type LowCardinality(String),
    billable Nullable(UInt8),
    error_code Int32,
    error_title String,
    received_at DateTime64(3, 'UTC'),
    delivery_id String,
    ingested_at DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(status_at)
ORDER BY (toDate(status_at), event_id)
SETTINGS non_replicated_deduplication_window = 1000;

-- One row per billable unit (a conversation under CBP, a message under PMP), priced by
-- domain/cost.ts. Several statuses of one unit carry the same charge_key; the version makes the
-- earliest event win, so the result does not depend on arrival order.
CREATE TABLE IF NOT EXISTS {db}.charges
(
    charge_key String,
    version UInt64,
    pricing_model LowCardinality(String),
    category LowCardinality(String),
    country LowCardinality(String),
    billable UInt8,
    free_type LowCardinality(String),
    priced_at DateTime64(3, 'UTC'),
    rate_micros UInt64,
    cost_micros UInt64,
    rate_effective_from String,
    unpriced UInt8,
    wamid String,
    job_id String,
    phone_number_id LowCardinality(String),
    waba_id LowCardinality(String),
    event_at DateTime64(3, 'UTC'),
    ingested_at DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(version)
ORDER BY charge_key
SETTINGS non_replicated_deduplication_window = 1000;

CREATE TABLE IF NOT EXISTS {db}.inbound_messages
(
    event_id String,
    wamid String,
    from_hash String,
    from_country LowCardinality(String),
    phone_number_id LowCardinality(String),
    waba_id LowCardinality(String),
    type LowCardinality(String),
    keyword String,
    button_payload String,
    interactive_reply_id String,
    context_wamid String,
    sent_at DateTime64(3, 'UTC'),
    received_at DateTime64(3, 'UTC'),
    ingested_at DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(sent_at)
ORDER BY (toDate(sent_at), event_id)
SETTINGS non_replicated_deduplication_window = 1000;

CREATE TABLE IF NOT EXISTS {db}.account_events
(
    event_id String,
    kind LowCardinality(String),
    field LowCardinality(String),
    waba_id LowCardinality(String),
    phone_number_id String,
    display_phone_number String,
    event String,
    template_name String,
    template_language String,
    reason String,
    messaging_limit Nullable(Int64),
    throughput_mps Nullable(Int32),
    value String,
    occurred_at DateTime64(3, 'UTC'),
    received_at DateTime64(3, 'UTC'),
    ingested_at DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree
ORDER BY (toDate(occurred_at), event_id)
SETTINGS non_replicated_deduplication_window = 1000;

-- event_id is the DLQ record's own topic:partition:offset, stable across redeliveries.
CREATE TABLE IF NOT EXISTS {db}.dead_letters
(
    event_id String,
    dlq_topic LowCardinality(String),
    reason LowCardinality(String),
    detail String,
    service LowCardinality(String),
    source_kind LowCardinality(String),
    source_topic String,
    job_id String,
    request_key String,
    campaign_id String,
    error_code Int32,
    original_bytes UInt32,
    occurred_at DateTime64(3, 'UTC'),
    ingested_at DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree
ORDER BY (toDate(occurred_at), event_id)
SETTINGS non_replicated_deduplication_window = 1000;

-- Editable by finance (npm run rates:load). A reloaded row with the same key replaces the old one.
CREATE TABLE IF NOT EXISTS {db}.rate_card
(
    pricing_model LowCardinality(String),
    country LowCardinality(String),
    category LowCardinality(String),
    effective_from Date,
    volume_tier_from UInt64,
    rate_micros UInt64,
    source String,
    loaded_at DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(loaded_at)
ORDER BY (pricing_model, country, category, effective_from, volume_tier_from);
