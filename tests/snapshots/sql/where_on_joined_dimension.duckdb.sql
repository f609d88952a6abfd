SELECT
  *
FROM (
  SELECT
    "t6"."__p" AS "month",
    SUM("t6"."revenue") AS "revenue",
    SUM("t6"."hours") AS "hours"
  FROM (
    SELECT
      "t5"."completed_at",
      "t5"."hours",
      "t5"."revenue",
      "t5"."__j0_f0",
      "t5"."completed_at" AS "__t",
      DATE_TRUNC('MONTH', "t5"."completed_at") AS "__p"
    FROM (
      SELECT
        "t2"."completed_at",
        "t2"."hours",
        "t2"."revenue",
        "t4"."__j0_f0"
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
      AND "t5"."completed_at" IS NOT NULL
      AND "t5"."completed_at" >= MAKE_TIMESTAMP(2024, 4, 1, 0, 0, 0.0)
      AND "t5"."completed_at" < MAKE_TIMESTAMP(2025, 1, 1, 0, 0, 0.0)
  ) AS "t6"
  GROUP BY
    1
) AS "t7"
ORDER BY
  "t7"."month" ASC
