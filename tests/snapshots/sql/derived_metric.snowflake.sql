SELECT
  "t8"."quarter",
  "t8"."country",
  CAST("t8"."__m0" AS DOUBLE) / NULLIF(CAST("t8"."__m1" AS DOUBLE), 0) AS "revenue_per_active_worker",
  CAST("t8"."__m0" AS DOUBLE) / NULLIF(CAST("t8"."__m2" AS DOUBLE), 0) AS "hourly_rate"
FROM (
  SELECT
    "t7"."__p" AS "quarter",
    "t7"."__j0_f0" AS "country",
    SUM("t7"."__m0") AS "__m0",
    COUNT(IFF("t7"."__m1" > 0, "t7"."worker_id", NULL)) AS "__m1",
    SUM("t7"."__m2") AS "__m2"
  FROM (
    SELECT
      "t6"."worker_id",
      "t6"."__p",
      "t6"."__m0",
      "t6"."__m1",
      "t6"."__m2",
      "t4"."__j0_f0"
    FROM (
      SELECT
        "t3"."worker_id",
        DATE_TRUNC('QUARTER', "t3"."__t") AS "__p",
        SUM("t3"."revenue") AS "__m0",
        COUNT(*) AS "__m1",
        SUM("t3"."hours") AS "__m2"
      FROM (
        SELECT
          "t0"."assignment_id",
          "t0"."task_id",
          "t0"."worker_id",
          "t0"."accepted_at",
          "t0"."completed_at",
          "t0"."hours",
          "t0"."revenue",
          "t0"."completed_at" AS "__t"
        FROM "assignments" AS "t0"
        WHERE
          "t0"."completed_at" IS NOT NULL
      ) AS "t3"
      GROUP BY
        1,
        2
    ) AS "t6"
    LEFT OUTER JOIN (
      SELECT
        "t1"."worker_id" AS "__j0_k0",
        "t1"."country" AS "__j0_f0"
      FROM "workers" AS "t1"
    ) AS "t4"
      ON "t6"."worker_id" = "t4"."__j0_k0"
  ) AS "t7"
  GROUP BY
    1,
    2
) AS "t8"
ORDER BY
  "t8"."quarter" ASC,
  "t8"."country" ASC
