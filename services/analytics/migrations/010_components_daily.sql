-- Accepted sends per UTC day, message type, template and component as a roll-up, so finance's
-- component counts read a few thousand rows instead of the raw sends (send_attempts FINAL: ~370 ms
-- over 10 million messages). Refreshed like the other roll-ups (adapters/rollups.ts, kind 'components').

CREATE TABLE IF NOT EXISTS {db}.components_daily
(
    day Date,
    type LowCardinality(String),
    template LowCardinality(String),
    component LowCardinality(String),
    messages UInt64
)
ENGINE = MergeTree
PARTITION BY day
ORDER BY (day, type, template, component);

CREATE TABLE IF NOT EXISTS {db}.components_daily_staging AS {db}.components_daily;

-- Every day already holding sends is rolled up at the next refresh (a repeated mark is harmless).
INSERT INTO {db}.rollup_dirty (kind, day) SELECT DISTINCT 'components', toDate(occurred_at) FROM {db}.send_attempts;

-- Same columns as before (migration 007); one row per message and component, a message without
-- components counted once under component ''.
CREATE OR REPLACE VIEW {db}.v_message_components AS
SELECT day, type, template, component, sum(messages) AS messages
FROM {db}.components_daily
GROUP BY day, type, template, component;
