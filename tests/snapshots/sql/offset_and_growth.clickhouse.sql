SELECT
  "t14"."month" AS "month",
  "t14"."__m0" AS "revenue",
  "t14"."__o0" AS "revenue_prev_month",
  (
    CAST("t14"."__m0" AS Nullable(Float64)) / nullIf(CAST("t14"."__o0" AS Nullable(Float64)), 0)
  ) - 1 AS "revenue_mom"
FROM (
  SELECT
    "t13"."month" AS "month",
    MAX("t13"."__m0") AS "__m0",
    MAX("t13"."__o0") AS "__o0"
  FROM (
    SELECT
      *
    FROM (
      SELECT
        "t5"."month" AS "month",
        "t5"."__m0" AS "__m0",
        CAST(NULL AS Nullable(Decimal(38, 2))) AS "__o0"
      FROM (
        SELECT
          "t1"."__p" AS "month",
          sumIf("t1"."revenue", NOT (
            isNull("t1"."completed_at")
          )) AS "__m0"
        FROM (
          SELECT
            "t0"."assignment_id" AS "assignment_id",
            "t0"."task_id" AS "task_id",
            "t0"."worker_id" AS "worker_id",
            "t0"."accepted_at" AS "accepted_at",
            "t0"."completed_at" AS "completed_at",
            "t0"."hours" AS "hours",
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
      ) AS "t5"
    ) AS "t8"
    UNION ALL
    SELECT
      *
    FROM (
      SELECT
        "t11"."month" AS "month",
        CAST(NULL AS Nullable(Decimal(38, 2))) AS "__m0",
        "t11"."__o0" AS "__o0"
      FROM (
        SELECT
          "t7"."__P" AS "month",
          "t10"."revenue" AS "__o0"
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
        ) AS "t7"
        INNER JOIN (
          SELECT
            "t6"."month" AS "month",
            "t6"."__m0" AS "revenue"
          FROM (
            SELECT
              "t2"."__p" AS "month",
              sumIf("t2"."revenue", NOT (
                isNull("t2"."completed_at")
              )) AS "__m0"
            FROM (
              SELECT
                "t0"."assignment_id" AS "assignment_id",
                "t0"."task_id" AS "task_id",
                "t0"."worker_id" AS "worker_id",
                "t0"."accepted_at" AS "accepted_at",
                "t0"."completed_at" AS "completed_at",
                "t0"."hours" AS "hours",
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
        ) AS "t10"
          ON "t7"."__Q" = "t10"."month"
      ) AS "t11"
    ) AS "t12"
  ) AS "t13"
  GROUP BY
    "t13"."month"
) AS "t14"
ORDER BY
  "t14"."month" ASC
