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
      AND "t0"."completed_at" < MAKE_TIMESTAMP(2024, 6, 3, 0, 0, 0.0)
  ) AS "t3"
  INNER JOIN (
    SELECT
      UNNEST(
        RANGE(
          MAKE_TIMESTAMP(2024, 3, 4, 0, 0, 0.0),
          MAKE_TIMESTAMP(2024, 6, 3, 0, 0, 0.0),
          INTERVAL '7' DAY
        )
      ) AS "__p"
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
