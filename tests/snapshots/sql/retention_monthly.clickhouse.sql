WITH "t1" AS (
  SELECT
    "t0"."worker_id" AS "__e",
    "t0"."ts" AS "__t"
  FROM "events" AS "t0"
  WHERE
    isNotNull("t0"."worker_id") AND "t0"."event_type" = 'task_completed'
), "t7" AS (
  SELECT
    "t3"."__e" AS "__e",
    "t3"."__entry" AS "__entry",
    (
      (
        CAST(toYear("t3"."__entry") AS Nullable(Int64)) * 12
      ) + CAST(toMonth("t3"."__entry") AS Nullable(Int64))
    ) - 1 AS "__ci"
  FROM (
    SELECT
      "t2"."__e" AS "__e",
      MIN("t2"."__t") AS "__entry"
    FROM "t1" AS "t2"
    GROUP BY
      "t2"."__e"
  ) AS "t3"
)
SELECT
  *
FROM (
  SELECT
    "t19"."cohort" AS "cohort",
    "t19"."cohort_size" AS "cohort_size",
    "t19"."__k" AS "period",
    COALESCE("t17"."__n", 0) AS "active",
    CAST(COALESCE("t17"."__n", 0) AS Nullable(Float64)) / CAST("t19"."cohort_size" AS Nullable(Float64)) AS "retention",
    (
      "t19"."__ci" + "t19"."__k"
    ) < "t19"."__last" AS "complete"
  FROM (
    SELECT
      "t13"."__ci" AS "__ci",
      "t13"."cohort" AS "cohort",
      "t13"."cohort_size" AS "cohort_size",
      "t6"."__last" AS "__last",
      arrayJoin(range(0, LEAST((
        "t6"."__last" - "t13"."__ci"
      ) + 1, 6), 1)) AS "__k"
    FROM (
      SELECT
        "t9"."__ci" AS "__ci",
        MIN(CAST(toStartOfMonth("t9"."__entry") AS Nullable(DateTime))) AS "cohort",
        COUNT(*) AS "cohort_size"
      FROM "t7" AS "t9"
      GROUP BY
        "t9"."__ci"
    ) AS "t13"
    CROSS JOIN (
      SELECT
        (
          (
            CAST(toYear(MAX("t0"."ts")) AS Nullable(Int64)) * 12
          ) + CAST(toMonth(MAX("t0"."ts")) AS Nullable(Int64))
        ) - 1 AS "__last"
      FROM "events" AS "t0"
    ) AS "t6"
  ) AS "t19"
  LEFT OUTER JOIN (
    SELECT
      "t14"."__ci" AS "__ci",
      "t14"."__k" AS "__k",
      COUNT(*) AS "__n"
    FROM (
      SELECT
        "t11"."__e" AS "__e",
        "t11"."__ci" AS "__ci",
        "t10"."__ai" - "t11"."__ci" AS "__k"
      FROM "t7" AS "t11"
      INNER JOIN (
        SELECT
          "t4"."__e" AS "__ae",
          (
            (
              CAST(toYear("t4"."__p") AS Nullable(Int64)) * 12
            ) + CAST(toMonth("t4"."__p") AS Nullable(Int64))
          ) - 1 AS "__ai",
          "t4"."__last" AS "__al"
        FROM (
          SELECT
            "t2"."__e" AS "__e",
            CAST(toStartOfMonth("t2"."__t") AS Nullable(DateTime)) AS "__p",
            MAX("t2"."__t") AS "__last"
          FROM "t1" AS "t2"
          GROUP BY
            "t2"."__e",
            CAST(toStartOfMonth("t2"."__t") AS Nullable(DateTime))
        ) AS "t4"
      ) AS "t10"
        ON "t11"."__e" = "t10"."__ae"
        AND "t10"."__ai" >= "t11"."__ci"
        AND (
          (
            "t10"."__ai" > "t11"."__ci"
          ) OR (
            "t10"."__al" >= "t11"."__entry"
          )
        )
        AND "t10"."__ai" < (
          "t11"."__ci" + 6
        )
    ) AS "t14"
    GROUP BY
      "t14"."__ci",
      "t14"."__k"
  ) AS "t17"
    ON "t19"."__ci" = "t17"."__ci" AND "t19"."__k" = "t17"."__k"
) AS "t20"
ORDER BY
  "t20"."cohort" ASC,
  "t20"."period" ASC
