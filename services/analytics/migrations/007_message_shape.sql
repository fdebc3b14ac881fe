-- What was sent, per message: its type (template, text, image, interactive, …) and the structure it
-- used (header:image, button:quick_reply, interactive:list, media:id, …; shared/src/message-shape.ts).
-- No values: no text, parameters, links or media ids. Spend is rolled up per template and message
-- type too; costs are priced exactly as before (the type only labels them).

ALTER TABLE {db}.send_attempts ADD COLUMN IF NOT EXISTS message_type LowCardinality(String) DEFAULT '' AFTER template;

ALTER TABLE {db}.send_attempts ADD COLUMN IF NOT EXISTS components Array(LowCardinality(String)) DEFAULT [] AFTER message_type;

ALTER TABLE {db}.spend_daily ADD COLUMN IF NOT EXISTS template LowCardinality(String) DEFAULT '' AFTER campaign_id;

ALTER TABLE {db}.spend_daily ADD COLUMN IF NOT EXISTS message_type LowCardinality(String) DEFAULT '' AFTER template;

-- REPLACE PARTITION needs the staging table to have the same structure.
ALTER TABLE {db}.spend_daily_staging ADD COLUMN IF NOT EXISTS template LowCardinality(String) DEFAULT '' AFTER campaign_id;

ALTER TABLE {db}.spend_daily_staging ADD COLUMN IF NOT EXISTS message_type LowCardinality(String) DEFAULT '' AFTER template;

-- Re-roll every spend day already there, so older days get their template and type from the sends
-- still in send_attempts (a repeated mark is harmless: the day is recomputed once).
INSERT INTO {db}.rollup_dirty (kind, day) SELECT DISTINCT 'spend', day FROM {db}.spend_daily;

-- Spend per template and message type, per UTC day of pricing. Units without a send record (no
-- job id on the status, or the send is older than the tables keep) have type 'unknown', no template.
CREATE OR REPLACE VIEW {db}.v_spend_by_message AS
SELECT
    day,
    template,
    message_type,
    category,
    pricing_model,
    country,
    sum(billable_units) AS billable_units,
    sum(free_units) AS free_units,
    sum(unpriced_units) AS unpriced_units,
    sum(spend_micros) AS spend_micros,
    toDecimal128(spend_micros, 6) / 1000000 AS spend_usd
FROM {db}.spend_daily
GROUP BY day, template, message_type, category, pricing_model, country;

-- Accepted sends per message type and component, per UTC day (one row per message and component;
-- a message without components counts once under component '').
CREATE OR REPLACE VIEW {db}.v_message_components AS
SELECT
    toDate(occurred_at) AS day,
    if(empty(message_type), 'unknown', toString(message_type)) AS type,
    template,
    arrayJoin(if(empty(components), [''], components)) AS component,
    count() AS messages
FROM {db}.send_attempts FINAL
WHERE outcome = 'sent'
GROUP BY day, type, template, component;
