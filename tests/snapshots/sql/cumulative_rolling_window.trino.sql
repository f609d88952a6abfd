SELECT
  *
FROM (
  SELECT
    "t4"."__p" AS "week",
    COUNT(DISTINCT "t3"."worker_id") FILTER(WHERE
      "t3"."completed_at" IS NOT NULL) AS "active_workers_28d"
  FROM (
    SELECT
      "t0"."worker_id",
      "t0"."completed_at",
      "t0"."completed_at" AS "__t"
    FROM "assignments" AS "t0"
    WHERE
      "t0"."completed_at" IS NOT NULL
      AND "t0"."completed_at" < CAST(FROM_ISO8601_TIMESTAMP('2024-06-03T00:00:00') AS TIMESTAMP)
  ) AS "t3"
  INNER JOIN (
    SELECT
      IF(_u.pos = _u_2.pos_2, _u_2."__p") AS "__p"
    FROM UNNEST(SEQUENCE(
      1,
      GREATEST(
        CARDINALITY(
          IF(
            NULLIF(INTERVAL '7' DAY, PARSE_DURATION('0s')) IS NOT NULL
            AND CASE
              WHEN INTERVAL '7' DAY = PARSE_DURATION('0s')
              THEN 0
              WHEN INTERVAL '7' DAY < PARSE_DURATION('0s')
              THEN -1
              WHEN INTERVAL '7' DAY > PARSE_DURATION('0s')
              THEN 1
            END = CASE
              WHEN (
                CAST(FROM_ISO8601_TIMESTAMP('2024-06-03T00:00:00') AS TIMESTAMP) - CAST(FROM_ISO8601_TIMESTAMP('2024-03-04T00:00:00') AS TIMESTAMP)
              ) = PARSE_DURATION('0s')
              THEN 0
              WHEN (
                CAST(FROM_ISO8601_TIMESTAMP('2024-06-03T00:00:00') AS TIMESTAMP) - CAST(FROM_ISO8601_TIMESTAMP('2024-03-04T00:00:00') AS TIMESTAMP)
              ) < PARSE_DURATION('0s')
              THEN -1
              WHEN (
                CAST(FROM_ISO8601_TIMESTAMP('2024-06-03T00:00:00') AS TIMESTAMP) - CAST(FROM_ISO8601_TIMESTAMP('2024-03-04T00:00:00') AS TIMESTAMP)
              ) > PARSE_DURATION('0s')
              THEN 1
            END,
            ARRAY_REMOVE(
              SEQUENCE(
                CAST(FROM_ISO8601_TIMESTAMP('2024-03-04T00:00:00') AS TIMESTAMP),
                CAST(FROM_ISO8601_TIMESTAMP('2024-06-03T00:00:00') AS TIMESTAMP),
                INTERVAL '7' DAY
              ),
              CAST(FROM_ISO8601_TIMESTAMP('2024-06-03T00:00:00') AS TIMESTAMP)
            ),
            ARRAY[]
          )
        )
      )
    )) AS _u(pos)
    CROSS JOIN UNNEST(IF(
      NULLIF(INTERVAL '7' DAY, PARSE_DURATION('0s')) IS NOT NULL
      AND CASE
        WHEN INTERVAL '7' DAY = PARSE_DURATION('0s')
        THEN 0
        WHEN INTERVAL '7' DAY < PARSE_DURATION('0s')
        THEN -1
        WHEN INTERVAL '7' DAY > PARSE_DURATION('0s')
        THEN 1
      END = CASE
        WHEN (
          CAST(FROM_ISO8601_TIMESTAMP('2024-06-03T00:00:00') AS TIMESTAMP) - CAST(FROM_ISO8601_TIMESTAMP('2024-03-04T00:00:00') AS TIMESTAMP)
        ) = PARSE_DURATION('0s')
        THEN 0
        WHEN (
          CAST(FROM_ISO8601_TIMESTAMP('2024-06-03T00:00:00') AS TIMESTAMP) - CAST(FROM_ISO8601_TIMESTAMP('2024-03-04T00:00:00') AS TIMESTAMP)
        ) < PARSE_DURATION('0s')
        THEN -1
        WHEN (
          CAST(FROM_ISO8601_TIMESTAMP('2024-06-03T00:00:00') AS TIMESTAMP) - CAST(FROM_ISO8601_TIMESTAMP('2024-03-04T00:00:00') AS TIMESTAMP)
        ) > PARSE_DURATION('0s')
        THEN 1
      END,
      ARRAY_REMOVE(
        SEQUENCE(
          CAST(FROM_ISO8601_TIMESTAMP('2024-03-04T00:00:00') AS TIMESTAMP),
          CAST(FROM_ISO8601_TIMESTAMP('2024-06-03T00:00:00') AS TIMESTAMP),
          INTERVAL '7' DAY
        ),
        CAST(FROM_ISO8601_TIMESTAMP('2024-06-03T00:00:00') AS TIMESTAMP)
      ),
      ARRAY[]
    )) WITH ORDINALITY AS _u_2("__p", pos_2)
    WHERE
      _u.pos = _u_2.pos_2
      OR (
        _u.pos > CARDINALITY(
          IF(
            NULLIF(INTERVAL '7' DAY, PARSE_DURATION('0s')) IS NOT NULL
            AND CASE
              WHEN INTERVAL '7' DAY = PARSE_DURATION('0s')
              THEN 0
              WHEN INTERVAL '7' DAY < PARSE_DURATION('0s')
              THEN -1
              WHEN INTERVAL '7' DAY > PARSE_DURATION('0s')
              THEN 1
            END = CASE
              WHEN (
                CAST(FROM_ISO8601_TIMESTAMP('2024-06-03T00:00:00') AS TIMESTAMP) - CAST(FROM_ISO8601_TIMESTAMP('2024-03-04T00:00:00') AS TIMESTAMP)
              ) = PARSE_DURATION('0s')
              THEN 0
              WHEN (
                CAST(FROM_ISO8601_TIMESTAMP('2024-06-03T00:00:00') AS TIMESTAMP) - CAST(FROM_ISO8601_TIMESTAMP('2024-03-04T00:00:00') AS TIMESTAMP)
              ) < PARSE_DURATION('0s')
              THEN -1
              WHEN (
                CAST(FROM_ISO8601_TIMESTAMP('2024-06-03T00:00:00') AS TIMESTAMP) - CAST(FROM_ISO8601_TIMESTAMP('2024-03-04T00:00:00') AS TIMESTAMP)
              ) > PARSE_DURATION('0s')
              THEN 1
            END,
            ARRAY_REMOVE(
              SEQUENCE(
                CAST(FROM_ISO8601_TIMESTAMP('2024-03-04T00:00:00') AS TIMESTAMP),
                CAST(FROM_ISO8601_TIMESTAMP('2024-06-03T00:00:00') AS TIMESTAMP),
                INTERVAL '7' DAY
              ),
              CAST(FROM_ISO8601_TIMESTAMP('2024-06-03T00:00:00') AS TIMESTAMP)
            ),
            ARRAY[]
          )
        )
        AND _u_2.pos_2 = CARDINALITY(
          IF(
            NULLIF(INTERVAL '7' DAY, PARSE_DURATION('0s')) IS NOT NULL
            AND CASE
              WHEN INTERVAL '7' DAY = PARSE_DURATION('0s')
              THEN 0
              WHEN INTERVAL '7' DAY < PARSE_DURATION('0s')
              THEN -1
              WHEN INTERVAL '7' DAY > PARSE_DURATION('0s')
              THEN 1
            END = CASE
              WHEN (
                CAST(FROM_ISO8601_TIMESTAMP('2024-06-03T00:00:00') AS TIMESTAMP) - CAST(FROM_ISO8601_TIMESTAMP('2024-03-04T00:00:00') AS TIMESTAMP)
              ) = PARSE_DURATION('0s')
              THEN 0
              WHEN (
                CAST(FROM_ISO8601_TIMESTAMP('2024-06-03T00:00:00') AS TIMESTAMP) - CAST(FROM_ISO8601_TIMESTAMP('2024-03-04T00:00:00') AS TIMESTAMP)
              ) < PARSE_DURATION('0s')
              THEN -1
              WHEN (
                CAST(FROM_ISO8601_TIMESTAMP('2024-06-03T00:00:00') AS TIMESTAMP) - CAST(FROM_ISO8601_TIMESTAMP('2024-03-04T00:00:00') AS TIMESTAMP)
              ) > PARSE_DURATION('0s')
              THEN 1
            END,
            ARRAY_REMOVE(
              SEQUENCE(
                CAST(FROM_ISO8601_TIMESTAMP('2024-03-04T00:00:00') AS TIMESTAMP),
                CAST(FROM_ISO8601_TIMESTAMP('2024-06-03T00:00:00') AS TIMESTAMP),
                INTERVAL '7' DAY
              ),
              CAST(FROM_ISO8601_TIMESTAMP('2024-06-03T00:00:00') AS TIMESTAMP)
            ),
            ARRAY[]
          )
        )
      )
  ) AS "t4"
    ON "t3"."__t" < (
      "t4"."__p" + INTERVAL '7' DAY
    )
    AND "t3"."__t" >= (
      (
        "t4"."__p" + INTERVAL '7' DAY
      ) - INTERVAL '28' DAY
    )
  GROUP BY
    1
) AS "t6"
ORDER BY
  "t6"."week" ASC
