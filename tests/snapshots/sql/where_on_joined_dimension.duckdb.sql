SELECT
  *
FROM (
  SELECT
    "t6"."__p" AS "month",
    SUM("t6"."revenue") AS "revenue",
    SUM("t6"."hours") AS "hours"
  FROM (
    SELECT
      "t2"."completed_at",
      "t2"."hours",
      "t2"."revenue",
      "t1"."country" AS "__j0_f0",
      "t2"."completed_at" AS "__t",
      DATE_TRUNC('MONTH', "t2"."completed_at") AS "__p"
    FROM "assignments" AS "t2"
    LEFT OUTER JOIN "workers" AS "t1"
      ON "t2"."worker_id" = "t1"."worker_id"
    WHERE
      "t1"."country" = 'US'
      AND "t2"."completed_at" IS NOT NULL
      AND "t2"."completed_at" >= MAKE_TIMESTAMP(2024, 4, 1, 0, 0, 0.0)
      AND "t2"."completed_at" < MAKE_TIMESTAMP(2025, 1, 1, 0, 0, 0.0)
  ) AS "t6"
  GROUP BY
    1
) AS "t7"
ORDER BY
  "t7"."month" ASC
