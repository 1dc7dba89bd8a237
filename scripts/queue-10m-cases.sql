-- 10,000,000 cases for the work-queue measurement (issue 15, issue 17 item 1): 20 units of 500,000,
-- 5% open, deadlines over 800 days; small filings. Run on a database Koshi has migrated.
\timing on
SET synchronous_commit = off;
INSERT INTO applications (id, kind, status, channel, unit, filed_unit, purpose, filed_at, accepted_on, due_on, person_key, rules_version, created_by, created_at, updated_at)
SELECT lpad(g::text, 12, '0'),
       CASE WHEN g % 7 = 0 THEN 'pr' ELSE 'rvp' END,
       CASE WHEN (g / 20) % 20 = 0 THEN 'awaiting_confirmation' ELSE 'issued' END,
       'police_desk',
       CASE WHEN g % 20 = 0 THEN 'ALM-01' ELSE 'U-' || (g % 20) END,
       CASE WHEN g % 20 = 0 THEN 'ALM-01' ELSE 'U-' || (g % 20) END,
       'labour_contract',
       to_char(timestamp '2024-09-01' + (g % 800) * interval '1 day', 'YYYY-MM-DD"T"HH24:MI:SS".000000Z"'),
       to_char(date '2024-09-01' + (g % 800), 'YYYY-MM-DD'),
       to_char(date '2024-09-02' + (g % 800), 'YYYY-MM-DD'),
       'P' || (g % 1000003),
       '992/2024-12-08', 'bench', '2024-09-01T00:00:00.000000Z', '2024-09-01T00:00:00.000000Z'
FROM generate_series(1, 10000000) AS g;
INSERT INTO application_filings (id, receipt, data)
SELECT lpad(g::text, 12, '0'),
       '{"number":"R-' || lpad(g::text, 12, '0') || '","type":"acceptance"}',
       '{"immigrant":{"surname":"PERSON' || g || '","given_names":"TEST","document":{"number":"N' || g || '"}},"inviting_party":{"kind":"organisation","bin":"' || (100000000000 + g % 5000) || '"}}'
FROM generate_series(1, 10000000) AS g;
ANALYZE applications;
ANALYZE application_filings;
