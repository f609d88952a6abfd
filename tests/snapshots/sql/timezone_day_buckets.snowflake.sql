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
        CONVERT_TIMEZONE('UTC', 'America/New_York', "t0"."ts") AS "__t"
      FROM "events" AS "t0"
    ) AS "t1"
    WHERE
      "t1"."__t" IS NOT NULL
      AND "t1"."__t" >= TIMESTAMP_FROM_PARTS(2024, 3, 8, 0, 0, 0, 0)
      AND "t1"."__t" < TIMESTAMP_FROM_PARTS(2024, 3, 12, 0, 0, 0, 0)
  ) AS "t2"
  GROUP BY
    1
) AS "t3"
ORDER BY
  "t3"."day" ASC
