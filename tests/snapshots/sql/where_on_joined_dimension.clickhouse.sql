SELECT
  *
FROM (
  SELECT
    "t6"."__p" AS "month",
    SUM("t6"."revenue") AS "revenue",
    SUM("t6"."hours") AS "hours"
  FROM (
    SELECT
      "t5"."completed_at" AS "completed_at",
      "t5"."hours" AS "hours",
      "t5"."revenue" AS "revenue",
      "t5"."__j0_f0" AS "__j0_f0",
      "t5"."completed_at" AS "__t",
      CAST(toStartOfMonth("t5"."completed_at") AS Nullable(DateTime)) AS "__p"
    FROM (
      SELECT
        "t2"."completed_at" AS "completed_at",
        "t2"."hours" AS "hours",
        "t2"."revenue" AS "revenue",
        "t4"."__j0_f0" AS "__j0_f0"
      FROM "assignments" AS "t2"
      LEFT OUTER JOIN (
        SELECT
          "t1"."worker_id" AS "__j0_k0",
          "t1"."country" AS "__j0_f0"
        FROM "workers" AS "t1"
      ) AS "t4"
        ON "t2"."worker_id" = "t4"."__j0_k0"
    ) AS "t5"
    WHERE
      "t5"."__j0_f0" = 'US'
      AND isNotNull("t5"."completed_at")
      AND "t5"."completed_at" >= parseDateTimeBestEffort('2024-04-01T00:00:00')
      AND "t5"."completed_at" < parseDateTimeBestEffort('2025-01-01T00:00:00')
  ) AS "t6"
  GROUP BY
    "t6"."__p"
) AS "t7"
ORDER BY
  "t7"."month" ASC
