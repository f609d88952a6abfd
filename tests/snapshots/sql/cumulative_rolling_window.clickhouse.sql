SELECT
  *
FROM (
  SELECT
    "t4"."__p" AS "week",
    uniqIf("t3"."worker_id", isNotNull("t3"."completed_at")) AS "active_workers_28d"
  FROM (
    SELECT
      "t0"."worker_id" AS "worker_id",
      "t0"."completed_at" AS "completed_at",
      "t0"."completed_at" AS "__t"
    FROM "assignments" AS "t0"
    WHERE
      isNotNull("t0"."completed_at")
      AND "t0"."completed_at" < parseDateTimeBestEffort('2024-06-03T00:00:00')
  ) AS "t3"
  INNER JOIN (
    SELECT
      arrayJoin(
        arrayMap(
          offset -> DATE_ADD(DAY, offset, parseDateTimeBestEffort('2024-03-04T00:00:00')),
          range(
            0,
            TIMESTAMPDIFF(
              'day',
              parseDateTimeBestEffort('2024-03-04T00:00:00'),
              parseDateTimeBestEffort('2024-06-03T00:00:00')
            ),
            7
          )
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
    "t4"."__p"
) AS "t6"
ORDER BY
  "t6"."week" ASC
