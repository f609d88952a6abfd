SELECT
  "t13"."quarter" AS "quarter",
  "t13"."country" AS "country",
  "t13"."__m0" AS "revenue",
  CAST("t13"."__m0" AS Nullable(Float64)) / nullIf(CAST("t13"."__s0" AS Nullable(Float64)), 0) AS "revenue_share"
FROM (
  SELECT
    "t12"."quarter" AS "quarter",
    "t12"."country" AS "country",
    "t12"."__m0" AS "__m0",
    "t9"."__den" AS "__s0"
  FROM (
    SELECT
      "t10"."__p" AS "quarter",
      "t10"."__j0_f0" AS "country",
      SUM("t10"."revenue") AS "__m0"
    FROM (
      SELECT
        "t7"."completed_at" AS "completed_at",
        "t7"."revenue" AS "revenue",
        "t7"."__j0_f0" AS "__j0_f0",
        "t7"."completed_at" AS "__t",
        CAST(toStartOfQuarter("t7"."completed_at") AS Nullable(DateTime)) AS "__p"
      FROM (
        SELECT
          "t2"."completed_at" AS "completed_at",
          "t2"."revenue" AS "revenue",
          "t5"."__j0_f0" AS "__j0_f0"
        FROM "assignments" AS "t2"
        LEFT OUTER JOIN (
          SELECT
            "t1"."worker_id" AS "__j0_k0",
            "t1"."country" AS "__j0_f0"
          FROM "workers" AS "t1"
        ) AS "t5"
          ON "t2"."worker_id" = "t5"."__j0_k0"
      ) AS "t7"
      WHERE
        isNotNull("t7"."completed_at")
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
) AS "t13"
ORDER BY
  "t13"."quarter" ASC,
  "t13"."country" ASC
