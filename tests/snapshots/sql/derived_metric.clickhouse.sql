SELECT
  "t8"."quarter" AS "quarter",
  "t8"."country" AS "country",
  CAST("t8"."__m0" AS Nullable(Float64)) / nullIf(CAST("t8"."__m1" AS Nullable(Float64)), 0) AS "revenue_per_active_worker",
  CAST("t8"."__m0" AS Nullable(Float64)) / nullIf(CAST("t8"."__m2" AS Nullable(Float64)), 0) AS "hourly_rate"
FROM (
  SELECT
    "t6"."__p" AS "quarter",
    "t1"."country" AS "country",
    SUM("t6"."__m0") AS "__m0",
    countIf("t6"."worker_id", "t6"."__m1" > 0) AS "__m1",
    SUM("t6"."__m2") AS "__m2"
  FROM (
    SELECT
      "t0"."worker_id" AS "worker_id",
      CAST(toStartOfQuarter("t0"."completed_at") AS Nullable(DateTime)) AS "__p",
      SUM("t0"."revenue") AS "__m0",
      COUNT(*) AS "__m1",
      SUM("t0"."hours") AS "__m2"
    FROM "assignments" AS "t0"
    WHERE
      isNotNull("t0"."completed_at")
    GROUP BY
      "t0"."worker_id",
      CAST(toStartOfQuarter("t0"."completed_at") AS Nullable(DateTime))
  ) AS "t6"
  LEFT OUTER JOIN "workers" AS "t1"
    ON "t6"."worker_id" = "t1"."worker_id"
  GROUP BY
    "t6"."__p",
    "t1"."country"
) AS "t8"
ORDER BY
  "t8"."quarter" ASC,
  "t8"."country" ASC
