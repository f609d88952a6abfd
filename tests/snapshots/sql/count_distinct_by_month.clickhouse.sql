SELECT
  *
FROM (
  SELECT
    "t1"."__p" AS "month",
    uniq("t1"."worker_id") AS "app_active_workers"
  FROM (
    SELECT
      "t0"."worker_id" AS "worker_id",
      "t0"."ts" AS "ts",
      "t0"."ts" AS "__t",
      CAST(toStartOfMonth("t0"."ts") AS Nullable(DateTime)) AS "__p"
    FROM "events" AS "t0"
    WHERE
      isNotNull("t0"."ts")
  ) AS "t1"
  GROUP BY
    "t1"."__p"
) AS "t2"
ORDER BY
  "t2"."month" ASC
