-- Latest state per message (wamid), folded by materialized views from the API acceptance in
-- send_attempts and every webhook status. All columns use idempotent aggregates (min/max/any), so
-- duplicate, replayed and out-of-order events cannot change the result: the status is max(rank)
-- with sent=1 < delivered=2 < read=3 < failed=4 (the ranks come from domain/status-machine.ts).

CREATE TABLE IF NOT EXISTS {db}.message_state
(
    msg_key UInt64,
    wamid SimpleAggregateFunction(any, String),
    job_id SimpleAggregateFunction(max, String),
    campaign_id SimpleAggregateFunction(max, String),
    template SimpleAggregateFunction(max, String),
    category SimpleAggregateFunction(max, String),
    sender SimpleAggregateFunction(max, String),
    country SimpleAggregateFunction(max, String),
    rank SimpleAggregateFunction(max, UInt8),
    requested_at SimpleAggregateFunction(min, Nullable(DateTime64(3, 'UTC'))),
    sent_at SimpleAggregateFunction(min, Nullable(DateTime64(3, 'UTC'))),
    delivered_at SimpleAggregateFunction(min, Nullable(DateTime64(3, 'UTC'))),
    read_at SimpleAggregateFunction(min, Nullable(DateTime64(3, 'UTC'))),
    failed_at SimpleAggregateFunction(min, Nullable(DateTime64(3, 'UTC'))),
    fail_code SimpleAggregateFunction(max, Int32),
    fail_reason SimpleAggregateFunction(max, String)
)
ENGINE = AggregatingMergeTree
ORDER BY msg_key;

CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.mv_message_state_from_sends TO {db}.message_state AS
SELECT
    cityHash64(wamid) AS msg_key,
    wamid,
    job_id,
    campaign_id,
    toString(template) AS template,
    toString(category) AS category,
    toString(sender_phone_number_id) AS sender,
    toString(recipient_country) AS country,
    toUInt8(1) AS rank,
    toNullable(requested_at) AS requested_at,
    toNullable(occurred_at) AS sent_at,
    CAST(NULL, 'Nullable(DateTime64(3, \'UTC\'))') AS delivered_at,
    CAST(NULL, 'Nullable(DateTime64(3, \'UTC\'))') AS read_at,
    CAST(NULL, 'Nullable(DateTime64(3, \'UTC\'))') AS failed_at,
    toInt32(0) AS fail_code,
    '' AS fail_reason
FROM {db}.send_attempts
WHERE outcome = 'sent' AND wamid != '';

CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.mv_message_state_from_statuses TO {db}.message_state AS
SELECT
    msg_key,
    wamid,
    job_id,
    '' AS campaign_id,
    '' AS template,
    '' AS category,
    toString(phone_number_id) AS sender,
    toString(recipient_country) AS country,
    rank,
    CAST(NULL, 'Nullable(DateTime64(3, \'UTC\'))') AS requested_at,
    if(status = 'sent', toNullable(status_at), NULL) AS sent_at,
    if(status = 'delivered', toNullable(status_at), NULL) AS delivered_at,
    if(status = 'read', toNullable(status_at), NULL) AS read_at,
    if(status = 'failed', toNullable(status_at), NULL) AS failed_at,
    if(status = 'failed', error_code, 0) AS fail_code,
    if(status = 'failed', error_title, '') AS fail_reason
FROM {db}.status_events
WHERE rank > 0;
