WITH "t2" AS (
  SELECT
    "t1"."worker_id" AS "__e",
    toUnixTimestamp64Micro("t1"."ts") AS "__t",
    CAST(CASE
      WHEN "t1"."event_type" = 'signup'
      THEN 1
      WHEN "t1"."event_type" = 'profile_completed'
      THEN 2
      WHEN "t1"."event_type" = 'application'
      THEN 3
      WHEN "t1"."event_type" = 'task_accepted'
      THEN 4
      WHEN "t1"."event_type" = 'task_completed'
      THEN 5
      ELSE 0
    END AS Nullable(Int16)) AS "__k"
  FROM (
    SELECT
      *
    FROM "events" AS "t0"
    WHERE
      isNotNull("t0"."worker_id")
      AND isNotNull("t0"."ts")
      AND (
        (
          "t0"."event_type" = 'signup'
        )
        OR (
          "t0"."event_type" = 'profile_completed'
        )
        OR (
          "t0"."event_type" = 'application'
        )
        OR (
          "t0"."event_type" = 'task_accepted'
        )
        OR (
          "t0"."event_type" = 'task_completed'
        )
      )
  ) AS "t1"
)
SELECT
  CAST("t30"."step" AS Nullable(Int64)) AS "step",
  CASE
    WHEN CAST("t30"."step" AS Nullable(Int64)) = 1
    THEN 'signup'
    WHEN CAST("t30"."step" AS Nullable(Int64)) = 2
    THEN 'profile_completed'
    WHEN CAST("t30"."step" AS Nullable(Int64)) = 3
    THEN 'application'
    WHEN CAST("t30"."step" AS Nullable(Int64)) = 4
    THEN 'task_accepted'
    WHEN CAST("t30"."step" AS Nullable(Int64)) = 5
    THEN 'task_completed'
    ELSE CAST(NULL AS Nullable(String))
  END AS "step_name",
  CASE
    WHEN CAST("t30"."step" AS Nullable(Int64)) = 1
    THEN "t30"."__n1"
    WHEN CAST("t30"."step" AS Nullable(Int64)) = 2
    THEN "t30"."__n2"
    WHEN CAST("t30"."step" AS Nullable(Int64)) = 3
    THEN "t30"."__n3"
    WHEN CAST("t30"."step" AS Nullable(Int64)) = 4
    THEN "t30"."__n4"
    WHEN CAST("t30"."step" AS Nullable(Int64)) = 5
    THEN "t30"."__n5"
    ELSE CAST(NULL AS Nullable(Int64))
  END AS "entities",
  CAST(CASE
    WHEN CAST("t30"."step" AS Nullable(Int64)) = 1
    THEN "t30"."__n1"
    WHEN CAST("t30"."step" AS Nullable(Int64)) = 2
    THEN "t30"."__n2"
    WHEN CAST("t30"."step" AS Nullable(Int64)) = 3
    THEN "t30"."__n3"
    WHEN CAST("t30"."step" AS Nullable(Int64)) = 4
    THEN "t30"."__n4"
    WHEN CAST("t30"."step" AS Nullable(Int64)) = 5
    THEN "t30"."__n5"
    ELSE CAST(NULL AS Nullable(Int64))
  END AS Nullable(Float64)) / nullIf(CAST("t30"."__n1" AS Nullable(Float64)), 0) AS "conversion",
  CAST(CASE
    WHEN CAST("t30"."step" AS Nullable(Int64)) = 1
    THEN "t30"."__n1"
    WHEN CAST("t30"."step" AS Nullable(Int64)) = 2
    THEN "t30"."__n2"
    WHEN CAST("t30"."step" AS Nullable(Int64)) = 3
    THEN "t30"."__n3"
    WHEN CAST("t30"."step" AS Nullable(Int64)) = 4
    THEN "t30"."__n4"
    WHEN CAST("t30"."step" AS Nullable(Int64)) = 5
    THEN "t30"."__n5"
    ELSE CAST(NULL AS Nullable(Int64))
  END AS Nullable(Float64)) / nullIf(
    CASE
      WHEN CAST("t30"."step" AS Nullable(Int64)) = 1
      THEN CAST("t30"."__n1" AS Nullable(Float64))
      WHEN CAST("t30"."step" AS Nullable(Int64)) = 2
      THEN CAST("t30"."__n1" AS Nullable(Float64))
      WHEN CAST("t30"."step" AS Nullable(Int64)) = 3
      THEN CAST("t30"."__n2" AS Nullable(Float64))
      WHEN CAST("t30"."step" AS Nullable(Int64)) = 4
      THEN CAST("t30"."__n3" AS Nullable(Float64))
      WHEN CAST("t30"."step" AS Nullable(Int64)) = 5
      THEN CAST("t30"."__n4" AS Nullable(Float64))
      ELSE CAST(NULL AS Nullable(Float64))
    END,
    0
  ) AS "step_conversion",
  CASE
    WHEN CAST("t30"."step" AS Nullable(Int64)) = 2
    THEN "t30"."__med2"
    WHEN CAST("t30"."step" AS Nullable(Int64)) = 3
    THEN "t30"."__med3"
    WHEN CAST("t30"."step" AS Nullable(Int64)) = 4
    THEN "t30"."__med4"
    WHEN CAST("t30"."step" AS Nullable(Int64)) = 5
    THEN "t30"."__med5"
    ELSE CAST(NULL AS Nullable(Float64))
  END AS "median_seconds",
  CASE
    WHEN CAST("t30"."step" AS Nullable(Int64)) = 2
    THEN "t30"."__avg2"
    WHEN CAST("t30"."step" AS Nullable(Int64)) = 3
    THEN "t30"."__avg3"
    WHEN CAST("t30"."step" AS Nullable(Int64)) = 4
    THEN "t30"."__avg4"
    WHEN CAST("t30"."step" AS Nullable(Int64)) = 5
    THEN "t30"."__avg5"
    ELSE CAST(NULL AS Nullable(Float64))
  END AS "avg_seconds"
FROM (
  SELECT
    "t29"."__n1" AS "__n1",
    "t29"."__n2" AS "__n2",
    "t29"."__med2" AS "__med2",
    "t29"."__avg2" AS "__avg2",
    "t29"."__n3" AS "__n3",
    "t29"."__med3" AS "__med3",
    "t29"."__avg3" AS "__avg3",
    "t29"."__n4" AS "__n4",
    "t29"."__med4" AS "__med4",
    "t29"."__avg4" AS "__avg4",
    "t29"."__n5" AS "__n5",
    "t29"."__med5" AS "__med5",
    "t29"."__avg5" AS "__avg5",
    arrayJoin([1, 2, 3, 4, 5]) AS "step"
  FROM (
    SELECT
      COALESCE(countIf("t28"."__depth" >= 1), 0) AS "__n1",
      COALESCE(countIf("t28"."__depth" >= 2), 0) AS "__n2",
      quantileExactExclusive(CAST("t28"."__t2" - "t28"."__t1" AS Nullable(Float64)) / 1000000) AS "__med2",
      AVG(CAST("t28"."__t2" - "t28"."__t1" AS Nullable(Float64)) / 1000000) AS "__avg2",
      COALESCE(countIf("t28"."__depth" >= 3), 0) AS "__n3",
      quantileExactExclusive(CAST("t28"."__t3" - "t28"."__t2" AS Nullable(Float64)) / 1000000) AS "__med3",
      AVG(CAST("t28"."__t3" - "t28"."__t2" AS Nullable(Float64)) / 1000000) AS "__avg3",
      COALESCE(countIf("t28"."__depth" >= 4), 0) AS "__n4",
      quantileExactExclusive(CAST("t28"."__t4" - "t28"."__t3" AS Nullable(Float64)) / 1000000) AS "__med4",
      AVG(CAST("t28"."__t4" - "t28"."__t3" AS Nullable(Float64)) / 1000000) AS "__avg4",
      COALESCE(countIf("t28"."__depth" >= 5), 0) AS "__n5",
      quantileExactExclusive(CAST("t28"."__t5" - "t28"."__t4" AS Nullable(Float64)) / 1000000) AS "__med5",
      AVG(CAST("t28"."__t5" - "t28"."__t4" AS Nullable(Float64)) / 1000000) AS "__avg5"
    FROM (
      SELECT
        "t27".*
        EXCEPT ("__rn")
      FROM (
        SELECT
          *
        FROM (
          SELECT
            "t25"."__e" AS "__e",
            "t25"."__t1" AS "__t1",
            "t25"."__t2" AS "__t2",
            "t25"."__t3" AS "__t3",
            "t25"."__t4" AS "__t4",
            "t25"."__t5" AS "__t5",
            "t25"."__depth" AS "__depth",
            "t25"."__clean" AS "__clean",
            ROW_NUMBER() OVER (
              PARTITION BY "t25"."__e"
              ORDER BY "t25"."__depth" DESC, COALESCE("t25"."__t5", "t25"."__t4", "t25"."__t3", "t25"."__t2", "t25"."__t1") ASC, "t25"."__t1" DESC, "t25"."__t2" DESC, "t25"."__t3" DESC, "t25"."__t4" DESC
              ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING
            ) - 1 AS "__rn"
          FROM (
            SELECT
              "t24"."__e" AS "__e",
              "t24"."__t1" AS "__t1",
              "t24"."__t2" AS "__t2",
              "t24"."__t3" AS "__t3",
              "t24"."__t4" AS "__t4",
              "t24"."__t5" AS "__t5",
              1 + CAST(CASE WHEN isNotNull("t24"."__t2") THEN 1 ELSE 0 END AS Nullable(Int64)) + CAST(CASE WHEN isNotNull("t24"."__t3") THEN 1 ELSE 0 END AS Nullable(Int64)) + CAST(CASE WHEN isNotNull("t24"."__t4") THEN 1 ELSE 0 END AS Nullable(Int64)) + CAST(CASE WHEN isNotNull("t24"."__t5") THEN 1 ELSE 0 END AS Nullable(Int64)) AS "__depth",
              TRUE AS "__clean"
            FROM (
              SELECT
                "t23"."__e" AS "__e",
                "t23"."__t1" AS "__t1",
                "t23"."__t2" AS "__t2",
                "t23"."__t3" AS "__t3",
                "t23"."__t4" AS "__t4",
                CASE
                  WHEN (
                    "t9"."__rk" - "t23"."__t1"
                  ) <= 2592000000000
                  THEN "t9"."__rk"
                  ELSE CAST(NULL AS Nullable(Int64))
                END AS "__t5"
              FROM (
                SELECT
                  "t20"."__e" AS "__e",
                  "t20"."__t1" AS "__t1",
                  "t20"."__t2" AS "__t2",
                  "t20"."__t3" AS "__t3",
                  CASE
                    WHEN (
                      "t10"."__rk" - "t20"."__t1"
                    ) <= 2592000000000
                    THEN "t10"."__rk"
                    ELSE CAST(NULL AS Nullable(Int64))
                  END AS "__t4"
                FROM (
                  SELECT
                    "t17"."__e" AS "__e",
                    "t17"."__t1" AS "__t1",
                    "t17"."__t2" AS "__t2",
                    CASE
                      WHEN (
                        "t11"."__rk" - "t17"."__t1"
                      ) <= 2592000000000
                      THEN "t11"."__rk"
                      ELSE CAST(NULL AS Nullable(Int64))
                    END AS "__t3"
                  FROM (
                    SELECT
                      "t14"."__e" AS "__e",
                      "t14"."__t1" AS "__t1",
                      CASE
                        WHEN (
                          "t13"."__rk" - "t14"."__t1"
                        ) <= 2592000000000
                        THEN "t13"."__rk"
                        ELSE CAST(NULL AS Nullable(Int64))
                      END AS "__t2"
                    FROM (
                      SELECT
                        "t3"."__e" AS "__e",
                        "t3"."__t" AS "__t1"
                      FROM "t2" AS "t3"
                      WHERE
                        "t3"."__k" = 1
                    ) AS "t14"
                    ASOF LEFT JOIN (
                      SELECT
                        "t3"."__e" AS "__re",
                        "t3"."__t" AS "__rk"
                      FROM "t2" AS "t3"
                      WHERE
                        "t3"."__k" = 2
                    ) AS "t13"
                      ON "t14"."__t1" <= "t13"."__rk" AND "t14"."__e" = "t13"."__re"
                  ) AS "t17"
                  ASOF LEFT JOIN (
                    SELECT
                      "t3"."__e" AS "__re",
                      "t3"."__t" AS "__rk"
                    FROM "t2" AS "t3"
                    WHERE
                      "t3"."__k" = 3
                  ) AS "t11"
                    ON "t17"."__t2" <= "t11"."__rk" AND "t17"."__e" = "t11"."__re"
                ) AS "t20"
                ASOF LEFT JOIN (
                  SELECT
                    "t3"."__e" AS "__re",
                    "t3"."__t" AS "__rk"
                  FROM "t2" AS "t3"
                  WHERE
                    "t3"."__k" = 4
                ) AS "t10"
                  ON "t20"."__t3" <= "t10"."__rk" AND "t20"."__e" = "t10"."__re"
              ) AS "t23"
              ASOF LEFT JOIN (
                SELECT
                  "t3"."__e" AS "__re",
                  "t3"."__t" AS "__rk"
                FROM "t2" AS "t3"
                WHERE
                  "t3"."__k" = 5
              ) AS "t9"
                ON "t23"."__t4" <= "t9"."__rk" AND "t23"."__e" = "t9"."__re"
            ) AS "t24"
            WHERE
              TRUE
          ) AS "t25"
        ) AS "t26"
        WHERE
          "t26"."__rn" = 0
      ) AS "t27"
    ) AS "t28"
  ) AS "t29"
) AS "t30"
ORDER BY
  CAST("t30"."step" AS Nullable(Int64)) ASC
