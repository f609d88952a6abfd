SELECT
  *
FROM (
  SELECT
    "t12"."month" AS "month",
    MAX("t12"."__m0") AS "revenue",
    MAX("t12"."__o0") AS "revenue_prev_month",
    (
      CAST(MAX("t12"."__m0") AS Nullable(Float64)) / nullIf(CAST(MAX("t12"."__o0") AS Nullable(Float64)), 0)
    ) - 1 AS "revenue_mom"
  FROM (
    SELECT
      *
    FROM (
      SELECT
        "t4"."month" AS "month",
        "t4"."__m0" AS "__m0",
        CAST(NULL AS Nullable(Decimal(38, 2))) AS "__o0"
      FROM (
        SELECT
          "t1"."__p" AS "month",
          SUM("t1"."revenue") AS "__m0"
        FROM (
          SELECT
            "t0"."completed_at" AS "completed_at",
            "t0"."revenue" AS "revenue",
            "t0"."completed_at" AS "__t",
            CAST(toStartOfMonth("t0"."completed_at") AS Nullable(DateTime)) AS "__p"
          FROM "assignments" AS "t0"
          WHERE
            isNotNull("t0"."completed_at")
            AND "t0"."completed_at" >= parseDateTimeBestEffort('2024-06-01T00:00:00')
            AND "t0"."completed_at" < parseDateTimeBestEffort('2025-01-01T00:00:00')
        ) AS "t1"
        GROUP BY
          "t1"."__p"
      ) AS "t4"
    ) AS "t8"
    UNION ALL
    SELECT
      *
    FROM (
      SELECT
        "t9"."__P" AS "month",
        CAST(NULL AS Nullable(Decimal(38, 2))) AS "__m0",
        "t6"."revenue" AS "__o0"
      FROM (
        SELECT
          "t3"."__P" AS "__P",
          CAST(toStartOfMonth("t3"."__P" - INTERVAL '1' MONTH) AS Nullable(DateTime)) AS "__Q"
        FROM (
          SELECT
            arrayJoin(
              arrayMap(
                offset -> DATE_ADD(MONTH, offset, parseDateTimeBestEffort('2024-06-01T00:00:00')),
                range(
                  0,
                  TIMESTAMPDIFF(
                    'month',
                    parseDateTimeBestEffort('2024-06-01T00:00:00'),
                    parseDateTimeBestEffort('2025-01-01T00:00:00')
                  ),
                  1
                )
              )
            ) AS "__P"
        ) AS "t3"
      ) AS "t9"
      INNER JOIN (
        SELECT
          "t2"."__p" AS "month",
          SUM("t2"."revenue") AS "revenue"
        FROM (
          SELECT
            "t0"."completed_at" AS "completed_at",
            "t0"."revenue" AS "revenue",
            "t0"."completed_at" AS "__t",
            CAST(toStartOfMonth("t0"."completed_at") AS Nullable(DateTime)) AS "__p"
          FROM "assignments" AS "t0"
          WHERE
            isNotNull("t0"."completed_at")
            AND "t0"."completed_at" >= parseDateTimeBestEffort('2024-05-01T00:00:00')
            AND "t0"."completed_at" < parseDateTimeBestEffort('2024-12-01T00:00:00')
        ) AS "t2"
        GROUP BY
          "t2"."__p"
      ) AS "t6"
        ON "t9"."__Q" = "t6"."month"
    ) AS "t11"
  ) AS "t12"
  GROUP BY
    "t12"."month"
) AS "t13"
ORDER BY
  "t13"."month" ASC
