-- origins.sql - campaign views over spamtrace JSON Lines loaded by
-- bench/scaling/load-sqlite into the table trace(line).
--   sqlite3 traces.db < bench/scaling/origins.sql
-- Needs SQLite's JSON functions (built in since 3.38; Debian 12 has 3.40).

-- For big tables: an index on the expression the views group by.
CREATE INDEX IF NOT EXISTS trace_origin_ip
	ON trace(json_extract(line, '$.origin.ip'));

.headers on
.mode column

-- 1. The origins, most messages first: the addresses to report.
SELECT json_extract(line, '$.origin.ip')  AS origin_ip,
       json_extract(line, '$.origin.org') AS org,
       count(*)                            AS messages
FROM trace
WHERE json_extract(line, '$.origin.ip') <> ''     -- also skips null
GROUP BY origin_ip, org
ORDER BY messages DESC, origin_ip
LIMIT 20;

-- 2. The same for the messages that bounced (a joe-job's real senders):
--    trace --json puts the bounced original's trace under "original".
SELECT json_extract(line, '$.original.trace.origin.ip') AS bounced_from_ip,
       count(*)                                          AS bounces
FROM trace
WHERE json_extract(line, '$.original.trace.origin.ip') <> ''
GROUP BY bounced_from_ip
ORDER BY bounces DESC, bounced_from_ip
LIMIT 20;

-- 3. Findings, most frequent first (json_each walks the array).
SELECT json_extract(f.value, '$.code') AS finding,
       count(*)                          AS times
FROM trace, json_each(trace.line, '$.findings') AS f
GROUP BY finding
ORDER BY times DESC, finding;

-- 4. Messages per day (by the Date header) and per origin organisation.
SELECT substr(json_extract(line, '$.date'), 1, 10) AS day,
       count(*)                                     AS messages
FROM trace
WHERE json_extract(line, '$.date') IS NOT NULL
GROUP BY day
ORDER BY day
LIMIT 31;
