SELECT
  *
FROM (
  SELECT
    "t12"."month",
    MAX("t12"."__m0") AS "revenue",
    MAX("t12"."__o0") AS "revenue_prev_month",
    (
      CAST(MAX("t12"."__m0") AS DOUBLE PRECISION) / NULLIF(CAST(MAX("t12"."__o0") AS DOUBLE PRECISION), 0)
    ) - 1 AS "revenue_mom"
  FROM (
    SELECT
      *
    FROM (
      SELECT
        "t4"."month",
        "t4"."__m0",
        CAST(NULL AS DECIMAL(38, 2)) AS "__o0"
      FROM (
        SELECT
          "t1"."__p" AS "month",
          SUM("t1"."revenue") AS "__m0"
        FROM (
          SELECT
            "t0"."completed_at",
            "t0"."revenue",
            "t0"."completed_at" AS "__t",
            DATE_TRUNC('MONTH', "t0"."completed_at") AS "__p"
          FROM "assignments" AS "t0"
          WHERE
            "t0"."completed_at" IS NOT NULL
            AND "t0"."completed_at" >= CAST('2024-06-01T00:00:00' AS TIMESTAMP)
            AND "t0"."completed_at" < CAST('2025-01-01T00:00:00' AS TIMESTAMP)
        ) AS "t1"
        GROUP BY
          1
      ) AS "t4"
    ) AS "t8"
    UNION ALL
    SELECT
      *
    FROM (
      SELECT
        "t9"."__P" AS "month",
        CAST(NULL AS DECIMAL(38, 2)) AS "__m0",
        "t6"."revenue" AS "__o0"
      FROM (
        SELECT
          "t3"."__P",
          DATE_TRUNC('MONTH', "t3"."__P" - INTERVAL '1 MONTH') AS "__Q"
        FROM (
          SELECT
            UNNEST(
              CASE
                WHEN NULLIF(INTERVAL '1 MONTH', MAKE_INTERVAL()) IS NOT NULL
                AND CASE
                  WHEN INTERVAL '1 MONTH' = MAKE_INTERVAL()
                  THEN 0
                  WHEN INTERVAL '1 MONTH' < MAKE_INTERVAL()
                  THEN -1
                  WHEN INTERVAL '1 MONTH' > MAKE_INTERVAL()
                  THEN 1
                  ELSE NULL
                END = CASE
                  WHEN (
                    CAST('2025-01-01T00:00:00' AS TIMESTAMP) - CAST('2024-06-01T00:00:00' AS TIMESTAMP)
                  ) = MAKE_INTERVAL()
                  THEN 0
                  WHEN (
                    CAST('2025-01-01T00:00:00' AS TIMESTAMP) - CAST('2024-06-01T00:00:00' AS TIMESTAMP)
                  ) < MAKE_INTERVAL()
                  THEN -1
                  WHEN (
                    CAST('2025-01-01T00:00:00' AS TIMESTAMP) - CAST('2024-06-01T00:00:00' AS TIMESTAMP)
                  ) > MAKE_INTERVAL()
                  THEN 1
                  ELSE NULL
                END
                THEN ARRAY_REMOVE(
                  ARRAY(SELECT
                    *
                  FROM GENERATE_SERIES(
                    CAST('2024-06-01T00:00:00' AS TIMESTAMP),
                    CAST('2025-01-01T00:00:00' AS TIMESTAMP),
                    INTERVAL '1 MONTH'
                  )),
                  CAST('2025-01-01T00:00:00' AS TIMESTAMP)
                )
                ELSE CAST(ARRAY[] AS TIMESTAMP[])
              END
            ) AS "__P"
        ) AS "t3"
      ) AS "t9"
      INNER JOIN (
        SELECT
          "t2"."__p" AS "month",
          SUM("t2"."revenue") AS "revenue"
        FROM (
          SELECT
            "t0"."completed_at",
            "t0"."revenue",
            "t0"."completed_at" AS "__t",
            DATE_TRUNC('MONTH', "t0"."completed_at") AS "__p"
          FROM "assignments" AS "t0"
          WHERE
            "t0"."completed_at" IS NOT NULL
            AND "t0"."completed_at" >= CAST('2024-05-01T00:00:00' AS TIMESTAMP)
            AND "t0"."completed_at" < CAST('2024-12-01T00:00:00' AS TIMESTAMP)
        ) AS "t2"
        GROUP BY
          1
      ) AS "t6"
        ON "t9"."__Q" = "t6"."month"
    ) AS "t11"
  ) AS "t12"
  GROUP BY
    1
) AS "t13"
ORDER BY
  "t13"."month" ASC
