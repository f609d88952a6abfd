SELECT
  "t12"."quarter" AS "quarter",
  "t12"."country" AS "country",
  "t12"."__m0" AS "revenue",
  CAST("t12"."__m0" AS Nullable(Float64)) / nullIf(CAST("t9"."__den" AS Nullable(Float64)), 0) AS "revenue_share"
FROM (
  SELECT
    "t10"."__p" AS "quarter",
    "t10"."__j0_f0" AS "country",
    SUM("t10"."revenue") AS "__m0"
  FROM (
    SELECT
      "t2"."completed_at" AS "completed_at",
      "t2"."revenue" AS "revenue",
      "t1"."country" AS "__j0_f0",
      "t2"."completed_at" AS "__t",
      CAST(toStartOfQuarter("t2"."completed_at") AS Nullable(DateTime)) AS "__p"
    FROM "assignments" AS "t2"
    LEFT OUTER JOIN "workers" AS "t1"
      ON "t2"."worker_id" = "t1"."worker_id"
    WHERE
      isNotNull("t2"."completed_at")
  ) AS "t10"
  GROUP BY
    "t10"."__p",
    "t10"."__j0_f0"
) AS "t12"
LEFT OUTER JOIN (
  SELECT
    "t6"."quarter" AS "__skg",
    "t6"."revenue" AS "__den"
  FROM (
    SELECT
      "t4"."__p" AS "quarter",
      SUM("t4"."revenue") AS "revenue"
    FROM (
      SELECT
        "t0"."completed_at" AS "completed_at",
        "t0"."revenue" AS "revenue",
        "t0"."completed_at" AS "__t",
        CAST(toStartOfQuarter("t0"."completed_at") AS Nullable(DateTime)) AS "__p"
      FROM "assignments" AS "t0"
      WHERE
        isNotNull("t0"."completed_at")
    ) AS "t4"
    GROUP BY
      "t4"."__p"
  ) AS "t6"
) AS "t9"
  ON "t12"."quarter" = "t9"."__skg"
ORDER BY
  "t12"."quarter" ASC,
  "t12"."country" ASC
