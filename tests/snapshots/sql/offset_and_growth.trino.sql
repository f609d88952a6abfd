SELECT
  "t14"."month",
  "t14"."__m0" AS "revenue",
  "t14"."__o0" AS "revenue_prev_month",
  (
    CAST("t14"."__m0" AS DOUBLE) / NULLIF(CAST("t14"."__o0" AS DOUBLE), 0)
  ) - 1 AS "revenue_mom"
FROM (
  SELECT
    "t13"."month",
    MAX("t13"."__m0") AS "__m0",
    MAX("t13"."__o0") AS "__o0"
  FROM (
    SELECT
      *
    FROM (
      SELECT
        "t5"."month",
        "t5"."__m0",
        CAST(NULL AS DECIMAL(38, 2)) AS "__o0"
      FROM (
        SELECT
          "t1"."__p" AS "month",
          SUM("t1"."revenue") FILTER(WHERE
            NOT (
              "t1"."completed_at" IS NULL
            )) AS "__m0"
        FROM (
          SELECT
            "t0"."assignment_id",
            "t0"."task_id",
            "t0"."worker_id",
            "t0"."accepted_at",
            "t0"."completed_at",
            "t0"."hours",
            "t0"."revenue",
            "t0"."completed_at" AS "__t",
            DATE_TRUNC('MONTH', "t0"."completed_at") AS "__p"
          FROM "assignments" AS "t0"
          WHERE
            "t0"."completed_at" IS NOT NULL
            AND "t0"."completed_at" >= CAST(FROM_ISO8601_TIMESTAMP('2024-06-01T00:00:00') AS TIMESTAMP)
            AND "t0"."completed_at" < CAST(FROM_ISO8601_TIMESTAMP('2025-01-01T00:00:00') AS TIMESTAMP)
        ) AS "t1"
        GROUP BY
          1
      ) AS "t5"
    ) AS "t8"
    UNION ALL
    SELECT
      *
    FROM (
      SELECT
        "t11"."month",
        CAST(NULL AS DECIMAL(38, 2)) AS "__m0",
        "t11"."__o0"
      FROM (
        SELECT
          "t7"."__P" AS "month",
          "t10"."revenue" AS "__o0"
        FROM (
          SELECT
            "t3"."__P",
            DATE_TRUNC('MONTH', "t3"."__P" - INTERVAL '1' MONTH) AS "__Q"
          FROM (
            SELECT
              IF(_u.pos = _u_2.pos_2, _u_2."__P") AS "__P"
            FROM UNNEST(SEQUENCE(
              1,
              GREATEST(
                CARDINALITY(
                  IF(
                    NULLIF(INTERVAL '1' MONTH, PARSE_DURATION('0s')) IS NOT NULL
                    AND CASE
                      WHEN INTERVAL '1' MONTH = PARSE_DURATION('0s')
                      THEN 0
                      WHEN INTERVAL '1' MONTH < PARSE_DURATION('0s')
                      THEN -1
                      WHEN INTERVAL '1' MONTH > PARSE_DURATION('0s')
                      THEN 1
                    END = CASE
                      WHEN (
                        CAST(FROM_ISO8601_TIMESTAMP('2025-01-01T00:00:00') AS TIMESTAMP) - CAST(FROM_ISO8601_TIMESTAMP('2024-06-01T00:00:00') AS TIMESTAMP)
                      ) = PARSE_DURATION('0s')
                      THEN 0
                      WHEN (
                        CAST(FROM_ISO8601_TIMESTAMP('2025-01-01T00:00:00') AS TIMESTAMP) - CAST(FROM_ISO8601_TIMESTAMP('2024-06-01T00:00:00') AS TIMESTAMP)
                      ) < PARSE_DURATION('0s')
                      THEN -1
                      WHEN (
                        CAST(FROM_ISO8601_TIMESTAMP('2025-01-01T00:00:00') AS TIMESTAMP) - CAST(FROM_ISO8601_TIMESTAMP('2024-06-01T00:00:00') AS TIMESTAMP)
                      ) > PARSE_DURATION('0s')
                      THEN 1
                    END,
                    ARRAY_REMOVE(
                      SEQUENCE(
                        CAST(FROM_ISO8601_TIMESTAMP('2024-06-01T00:00:00') AS TIMESTAMP),
                        CAST(FROM_ISO8601_TIMESTAMP('2025-01-01T00:00:00') AS TIMESTAMP),
                        INTERVAL '1' MONTH
                      ),
                      CAST(FROM_ISO8601_TIMESTAMP('2025-01-01T00:00:00') AS TIMESTAMP)
                    ),
                    ARRAY[]
                  )
                )
              )
            )) AS _u(pos)
            CROSS JOIN UNNEST(IF(
              NULLIF(INTERVAL '1' MONTH, PARSE_DURATION('0s')) IS NOT NULL
              AND CASE
                WHEN INTERVAL '1' MONTH = PARSE_DURATION('0s')
                THEN 0
                WHEN INTERVAL '1' MONTH < PARSE_DURATION('0s')
                THEN -1
                WHEN INTERVAL '1' MONTH > PARSE_DURATION('0s')
                THEN 1
              END = CASE
                WHEN (
                  CAST(FROM_ISO8601_TIMESTAMP('2025-01-01T00:00:00') AS TIMESTAMP) - CAST(FROM_ISO8601_TIMESTAMP('2024-06-01T00:00:00') AS TIMESTAMP)
                ) = PARSE_DURATION('0s')
                THEN 0
                WHEN (
                  CAST(FROM_ISO8601_TIMESTAMP('2025-01-01T00:00:00') AS TIMESTAMP) - CAST(FROM_ISO8601_TIMESTAMP('2024-06-01T00:00:00') AS TIMESTAMP)
                ) < PARSE_DURATION('0s')
                THEN -1
                WHEN (
                  CAST(FROM_ISO8601_TIMESTAMP('2025-01-01T00:00:00') AS TIMESTAMP) - CAST(FROM_ISO8601_TIMESTAMP('2024-06-01T00:00:00') AS TIMESTAMP)
                ) > PARSE_DURATION('0s')
                THEN 1
              END,
              ARRAY_REMOVE(
                SEQUENCE(
                  CAST(FROM_ISO8601_TIMESTAMP('2024-06-01T00:00:00') AS TIMESTAMP),
                  CAST(FROM_ISO8601_TIMESTAMP('2025-01-01T00:00:00') AS TIMESTAMP),
                  INTERVAL '1' MONTH
                ),
                CAST(FROM_ISO8601_TIMESTAMP('2025-01-01T00:00:00') AS TIMESTAMP)
              ),
              ARRAY[]
            )) WITH ORDINALITY AS _u_2("__P", pos_2)
            WHERE
              _u.pos = _u_2.pos_2
              OR (
                _u.pos > CARDINALITY(
                  IF(
                    NULLIF(INTERVAL '1' MONTH, PARSE_DURATION('0s')) IS NOT NULL
                    AND CASE
                      WHEN INTERVAL '1' MONTH = PARSE_DURATION('0s')
                      THEN 0
                      WHEN INTERVAL '1' MONTH < PARSE_DURATION('0s')
                      THEN -1
                      WHEN INTERVAL '1' MONTH > PARSE_DURATION('0s')
                      THEN 1
                    END = CASE
                      WHEN (
                        CAST(FROM_ISO8601_TIMESTAMP('2025-01-01T00:00:00') AS TIMESTAMP) - CAST(FROM_ISO8601_TIMESTAMP('2024-06-01T00:00:00') AS TIMESTAMP)
                      ) = PARSE_DURATION('0s')
                      THEN 0
                      WHEN (
                        CAST(FROM_ISO8601_TIMESTAMP('2025-01-01T00:00:00') AS TIMESTAMP) - CAST(FROM_ISO8601_TIMESTAMP('2024-06-01T00:00:00') AS TIMESTAMP)
                      ) < PARSE_DURATION('0s')
                      THEN -1
                      WHEN (
                        CAST(FROM_ISO8601_TIMESTAMP('2025-01-01T00:00:00') AS TIMESTAMP) - CAST(FROM_ISO8601_TIMESTAMP('2024-06-01T00:00:00') AS TIMESTAMP)
                      ) > PARSE_DURATION('0s')
                      THEN 1
                    END,
                    ARRAY_REMOVE(
                      SEQUENCE(
                        CAST(FROM_ISO8601_TIMESTAMP('2024-06-01T00:00:00') AS TIMESTAMP),
                        CAST(FROM_ISO8601_TIMESTAMP('2025-01-01T00:00:00') AS TIMESTAMP),
                        INTERVAL '1' MONTH
                      ),
                      CAST(FROM_ISO8601_TIMESTAMP('2025-01-01T00:00:00') AS TIMESTAMP)
                    ),
                    ARRAY[]
                  )
                )
                AND _u_2.pos_2 = CARDINALITY(
                  IF(
                    NULLIF(INTERVAL '1' MONTH, PARSE_DURATION('0s')) IS NOT NULL
                    AND CASE
                      WHEN INTERVAL '1' MONTH = PARSE_DURATION('0s')
                      THEN 0
                      WHEN INTERVAL '1' MONTH < PARSE_DURATION('0s')
                      THEN -1
                      WHEN INTERVAL '1' MONTH > PARSE_DURATION('0s')
                      THEN 1
                    END = CASE
                      WHEN (
                        CAST(FROM_ISO8601_TIMESTAMP('2025-01-01T00:00:00') AS TIMESTAMP) - CAST(FROM_ISO8601_TIMESTAMP('2024-06-01T00:00:00') AS TIMESTAMP)
                      ) = PARSE_DURATION('0s')
                      THEN 0
                      WHEN (
                        CAST(FROM_ISO8601_TIMESTAMP('2025-01-01T00:00:00') AS TIMESTAMP) - CAST(FROM_ISO8601_TIMESTAMP('2024-06-01T00:00:00') AS TIMESTAMP)
                      ) < PARSE_DURATION('0s')
                      THEN -1
                      WHEN (
                        CAST(FROM_ISO8601_TIMESTAMP('2025-01-01T00:00:00') AS TIMESTAMP) - CAST(FROM_ISO8601_TIMESTAMP('2024-06-01T00:00:00') AS TIMESTAMP)
                      ) > PARSE_DURATION('0s')
                      THEN 1
                    END,
                    ARRAY_REMOVE(
                      SEQUENCE(
                        CAST(FROM_ISO8601_TIMESTAMP('2024-06-01T00:00:00') AS TIMESTAMP),
                        CAST(FROM_ISO8601_TIMESTAMP('2025-01-01T00:00:00') AS TIMESTAMP),
                        INTERVAL '1' MONTH
                      ),
                      CAST(FROM_ISO8601_TIMESTAMP('2025-01-01T00:00:00') AS TIMESTAMP)
                    ),
                    ARRAY[]
                  )
                )
              )
          ) AS "t3"
        ) AS "t7"
        INNER JOIN (
          SELECT
            "t6"."month",
            "t6"."__m0" AS "revenue"
          FROM (
            SELECT
              "t2"."__p" AS "month",
              SUM("t2"."revenue") FILTER(WHERE
                NOT (
                  "t2"."completed_at" IS NULL
                )) AS "__m0"
            FROM (
              SELECT
                "t0"."assignment_id",
                "t0"."task_id",
                "t0"."worker_id",
                "t0"."accepted_at",
                "t0"."completed_at",
                "t0"."hours",
                "t0"."revenue",
                "t0"."completed_at" AS "__t",
                DATE_TRUNC('MONTH', "t0"."completed_at") AS "__p"
              FROM "assignments" AS "t0"
              WHERE
                "t0"."completed_at" IS NOT NULL
                AND "t0"."completed_at" >= CAST(FROM_ISO8601_TIMESTAMP('2024-05-01T00:00:00') AS TIMESTAMP)
                AND "t0"."completed_at" < CAST(FROM_ISO8601_TIMESTAMP('2024-12-01T00:00:00') AS TIMESTAMP)
            ) AS "t2"
            GROUP BY
              1
          ) AS "t6"
        ) AS "t10"
          ON "t7"."__Q" = "t10"."month"
      ) AS "t11"
    ) AS "t12"
  ) AS "t13"
  GROUP BY
    1
) AS "t14"
ORDER BY
  "t14"."month" ASC
