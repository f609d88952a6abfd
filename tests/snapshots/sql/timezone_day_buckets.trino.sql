SELECT
  *
FROM (
  SELECT
    "t2"."__p" AS "day",
    COUNT(DISTINCT "t2"."worker_id") AS "app_active_workers"
  FROM (
    SELECT
      "t1"."worker_id",
      "t1"."ts",
      "t1"."__t",
      DATE_TRUNC('DAY', "t1"."__t") AS "__p"
    FROM (
      SELECT
        "t0"."worker_id",
        "t0"."ts",
        CAST(AT_TIMEZONE(WITH_TIMEZONE("t0"."ts", 'UTC'), 'America/New_York') AS TIMESTAMP(6)) AS "__t"
      FROM "events" AS "t0"
    ) AS "t1"
    WHERE
      "t1"."__t" IS NOT NULL
      AND "t1"."__t" >= CAST(FROM_ISO8601_TIMESTAMP('2024-03-08T00:00:00') AS TIMESTAMP)
      AND "t1"."__t" < CAST(FROM_ISO8601_TIMESTAMP('2024-03-12T00:00:00') AS TIMESTAMP)
  ) AS "t2"
  GROUP BY
    1
) AS "t3"
ORDER BY
  "t3"."day" ASC
