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
      AND "t0"."completed_at" < CAST('2024-06-03T00:00:00' AS TIMESTAMP)
  ) AS "t3"
  INNER JOIN (
    SELECT
      UNNEST(
        CASE
          WHEN NULLIF(INTERVAL '7 DAY', MAKE_INTERVAL()) IS NOT NULL
          AND CASE
            WHEN INTERVAL '7 DAY' = MAKE_INTERVAL()
            THEN 0
            WHEN INTERVAL '7 DAY' < MAKE_INTERVAL()
            THEN -1
            WHEN INTERVAL '7 DAY' > MAKE_INTERVAL()
            THEN 1
            ELSE NULL
          END = CASE
            WHEN (
              CAST('2024-06-03T00:00:00' AS TIMESTAMP) - CAST('2024-03-04T00:00:00' AS TIMESTAMP)
            ) = MAKE_INTERVAL()
            THEN 0
            WHEN (
              CAST('2024-06-03T00:00:00' AS TIMESTAMP) - CAST('2024-03-04T00:00:00' AS TIMESTAMP)
            ) < MAKE_INTERVAL()
            THEN -1
            WHEN (
              CAST('2024-06-03T00:00:00' AS TIMESTAMP) - CAST('2024-03-04T00:00:00' AS TIMESTAMP)
            ) > MAKE_INTERVAL()
            THEN 1
            ELSE NULL
          END
          THEN ARRAY_REMOVE(
            ARRAY(SELECT
              *
            FROM GENERATE_SERIES(
              CAST('2024-03-04T00:00:00' AS TIMESTAMP),
              CAST('2024-06-03T00:00:00' AS TIMESTAMP),
              INTERVAL '7 DAY'
            )),
            CAST('2024-06-03T00:00:00' AS TIMESTAMP)
          )
          ELSE CAST(ARRAY[] AS TIMESTAMP[])
        END
      ) AS "__p"
  ) AS "t4"
    ON "t3"."__t" < (
      "t4"."__p" + INTERVAL '7 DAY'
    )
    AND "t3"."__t" >= (
      (
        "t4"."__p" + INTERVAL '7 DAY'
      ) - INTERVAL '28 DAY'
    )
  GROUP BY
    1
) AS "t6"
ORDER BY
  "t6"."week" ASC
