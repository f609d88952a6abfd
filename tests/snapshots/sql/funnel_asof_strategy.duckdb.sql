WITH "t2" AS (
  SELECT
    "t1"."worker_id" AS "__e",
    EPOCH_US("t1"."ts") AS "__t",
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
    END AS SMALLINT) AS "__k"
  FROM (
    SELECT
      *
    FROM "events" AS "t0"
    WHERE
      "t0"."worker_id" IS NOT NULL
      AND "t0"."ts" IS NOT NULL
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
  CAST("t27"."step" AS BIGINT) AS "step",
  CASE
    WHEN CAST("t27"."step" AS BIGINT) = 1
    THEN 'signup'
    WHEN CAST("t27"."step" AS BIGINT) = 2
    THEN 'profile_completed'
    WHEN CAST("t27"."step" AS BIGINT) = 3
    THEN 'application'
    WHEN CAST("t27"."step" AS BIGINT) = 4
    THEN 'task_accepted'
    WHEN CAST("t27"."step" AS BIGINT) = 5
    THEN 'task_completed'
    ELSE CAST(NULL AS TEXT)
  END AS "step_name",
  CASE
    WHEN CAST("t27"."step" AS BIGINT) = 1
    THEN "t27"."__n1"
    WHEN CAST("t27"."step" AS BIGINT) = 2
    THEN "t27"."__n2"
    WHEN CAST("t27"."step" AS BIGINT) = 3
    THEN "t27"."__n3"
    WHEN CAST("t27"."step" AS BIGINT) = 4
    THEN "t27"."__n4"
    WHEN CAST("t27"."step" AS BIGINT) = 5
    THEN "t27"."__n5"
    ELSE CAST(NULL AS BIGINT)
  END AS "entities",
  CAST(CASE
    WHEN CAST("t27"."step" AS BIGINT) = 1
    THEN "t27"."__n1"
    WHEN CAST("t27"."step" AS BIGINT) = 2
    THEN "t27"."__n2"
    WHEN CAST("t27"."step" AS BIGINT) = 3
    THEN "t27"."__n3"
    WHEN CAST("t27"."step" AS BIGINT) = 4
    THEN "t27"."__n4"
    WHEN CAST("t27"."step" AS BIGINT) = 5
    THEN "t27"."__n5"
    ELSE CAST(NULL AS BIGINT)
  END AS DOUBLE) / NULLIF(CAST("t27"."__n1" AS DOUBLE), 0) AS "conversion",
  CASE
    WHEN CAST("t27"."step" AS BIGINT) = 1
    THEN 1.0
    ELSE CAST(CASE
      WHEN CAST("t27"."step" AS BIGINT) = 1
      THEN "t27"."__n1"
      WHEN CAST("t27"."step" AS BIGINT) = 2
      THEN "t27"."__n2"
      WHEN CAST("t27"."step" AS BIGINT) = 3
      THEN "t27"."__n3"
      WHEN CAST("t27"."step" AS BIGINT) = 4
      THEN "t27"."__n4"
      WHEN CAST("t27"."step" AS BIGINT) = 5
      THEN "t27"."__n5"
      ELSE CAST(NULL AS BIGINT)
    END AS DOUBLE) / NULLIF(
      CASE
        WHEN CAST("t27"."step" AS BIGINT) = 1
        THEN CAST("t27"."__n1" AS DOUBLE)
        WHEN CAST("t27"."step" AS BIGINT) = 2
        THEN CAST("t27"."__n1" AS DOUBLE)
        WHEN CAST("t27"."step" AS BIGINT) = 3
        THEN CAST("t27"."__n2" AS DOUBLE)
        WHEN CAST("t27"."step" AS BIGINT) = 4
        THEN CAST("t27"."__n3" AS DOUBLE)
        WHEN CAST("t27"."step" AS BIGINT) = 5
        THEN CAST("t27"."__n4" AS DOUBLE)
        ELSE CAST(NULL AS DOUBLE)
      END,
      0
    )
  END AS "step_conversion",
  CASE
    WHEN CAST("t27"."step" AS BIGINT) = 2
    THEN "t27"."__med2"
    WHEN CAST("t27"."step" AS BIGINT) = 3
    THEN "t27"."__med3"
    WHEN CAST("t27"."step" AS BIGINT) = 4
    THEN "t27"."__med4"
    WHEN CAST("t27"."step" AS BIGINT) = 5
    THEN "t27"."__med5"
    ELSE CAST(NULL AS DOUBLE)
  END AS "median_seconds",
  CASE
    WHEN CAST("t27"."step" AS BIGINT) = 2
    THEN "t27"."__avg2"
    WHEN CAST("t27"."step" AS BIGINT) = 3
    THEN "t27"."__avg3"
    WHEN CAST("t27"."step" AS BIGINT) = 4
    THEN "t27"."__avg4"
    WHEN CAST("t27"."step" AS BIGINT) = 5
    THEN "t27"."__avg5"
    ELSE CAST(NULL AS DOUBLE)
  END AS "avg_seconds"
FROM (
  SELECT
    "t26"."__n1",
    "t26"."__n2",
    "t26"."__med2",
    "t26"."__avg2",
    "t26"."__n3",
    "t26"."__med3",
    "t26"."__avg3",
    "t26"."__n4",
    "t26"."__med4",
    "t26"."__avg4",
    "t26"."__n5",
    "t26"."__med5",
    "t26"."__avg5",
    UNNEST(CAST([1, 2, 3, 4, 5] AS TINYINT[])) AS "step"
  FROM (
    SELECT
      COALESCE(COUNT(*) FILTER(WHERE
        "t25"."__depth" >= 1), 0) AS "__n1",
      COALESCE(COUNT(*) FILTER(WHERE
        "t25"."__depth" >= 2), 0) AS "__n2",
      QUANTILE_CONT(CAST("t25"."__t2" - "t25"."__t1" AS DOUBLE) / 1000000, 0.5) AS "__med2",
      AVG(CAST("t25"."__t2" - "t25"."__t1" AS DOUBLE) / 1000000) AS "__avg2",
      COALESCE(COUNT(*) FILTER(WHERE
        "t25"."__depth" >= 3), 0) AS "__n3",
      QUANTILE_CONT(CAST("t25"."__t3" - "t25"."__t2" AS DOUBLE) / 1000000, 0.5) AS "__med3",
      AVG(CAST("t25"."__t3" - "t25"."__t2" AS DOUBLE) / 1000000) AS "__avg3",
      COALESCE(COUNT(*) FILTER(WHERE
        "t25"."__depth" >= 4), 0) AS "__n4",
      QUANTILE_CONT(CAST("t25"."__t4" - "t25"."__t3" AS DOUBLE) / 1000000, 0.5) AS "__med4",
      AVG(CAST("t25"."__t4" - "t25"."__t3" AS DOUBLE) / 1000000) AS "__avg4",
      COALESCE(COUNT(*) FILTER(WHERE
        "t25"."__depth" >= 5), 0) AS "__n5",
      QUANTILE_CONT(CAST("t25"."__t5" - "t25"."__t4" AS DOUBLE) / 1000000, 0.5) AS "__med5",
      AVG(CAST("t25"."__t5" - "t25"."__t4" AS DOUBLE) / 1000000) AS "__avg5"
    FROM (
      SELECT
        "t24".*
        EXCLUDE ("__rn")
      FROM (
        SELECT
          *
        FROM (
          SELECT
            "t22"."__e",
            "t22"."__t1",
            "t22"."__t2",
            "t22"."__t3",
            "t22"."__t4",
            "t22"."__t5",
            "t22"."__depth",
            "t22"."__clean",
            ROW_NUMBER() OVER (
              PARTITION BY "t22"."__e"
              ORDER BY "t22"."__depth" DESC, COALESCE("t22"."__t5", "t22"."__t4", "t22"."__t3", "t22"."__t2", "t22"."__t1") ASC, "t22"."__t1" DESC
              ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING
            ) - 1 AS "__rn"
          FROM (
            SELECT
              "t21"."__e",
              "t21"."__t1",
              "t21"."__t2",
              "t21"."__t3",
              "t21"."__t4",
              "t21"."__t5",
              1 + CAST(CASE WHEN "t21"."__t2" IS NOT NULL THEN 1 ELSE 0 END AS BIGINT) + CAST(CASE WHEN "t21"."__t3" IS NOT NULL THEN 1 ELSE 0 END AS BIGINT) + CAST(CASE WHEN "t21"."__t4" IS NOT NULL THEN 1 ELSE 0 END AS BIGINT) + CAST(CASE WHEN "t21"."__t5" IS NOT NULL THEN 1 ELSE 0 END AS BIGINT) AS "__depth",
              TRUE AS "__clean"
            FROM (
              SELECT
                "t20"."__e",
                "t20"."__t1",
                "t20"."__t2",
                "t20"."__t3",
                "t20"."__t4",
                CASE
                  WHEN (
                    "t7"."__rk" - "t20"."__t1"
                  ) <= 2592000000000
                  THEN "t7"."__rk"
                  ELSE CAST(NULL AS BIGINT)
                END AS "__t5"
              FROM (
                SELECT
                  "t17"."__e",
                  "t17"."__t1",
                  "t17"."__t2",
                  "t17"."__t3",
                  CASE
                    WHEN (
                      "t8"."__rk" - "t17"."__t1"
                    ) <= 2592000000000
                    THEN "t8"."__rk"
                    ELSE CAST(NULL AS BIGINT)
                  END AS "__t4"
                FROM (
                  SELECT
                    "t14"."__e",
                    "t14"."__t1",
                    "t14"."__t2",
                    CASE
                      WHEN (
                        "t9"."__rk" - "t14"."__t1"
                      ) <= 2592000000000
                      THEN "t9"."__rk"
                      ELSE CAST(NULL AS BIGINT)
                    END AS "__t3"
                  FROM (
                    SELECT
                      "t11"."__e",
                      "t11"."__t" AS "__t1",
                      CASE
                        WHEN (
                          "t11"."__nk" = 2
                        )
                        AND (
                          (
                            "t11"."__nt" - "t11"."__t"
                          ) <= 2592000000000
                        )
                        THEN "t11"."__nt"
                        ELSE CAST(NULL AS BIGINT)
                      END AS "__t2"
                    FROM (
                      SELECT
                        "t10"."__e",
                        "t10"."__t",
                        "t10"."__k",
                        LEAD("t10"."__k") OVER (
                          PARTITION BY "t10"."__e"
                          ORDER BY "t10"."__t" ASC, "t10"."__k" ASC
                          ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING
                        ) AS "__nk",
                        LEAD("t10"."__t") OVER (
                          PARTITION BY "t10"."__e"
                          ORDER BY "t10"."__t" ASC, "t10"."__k" ASC
                          ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING
                        ) AS "__nt"
                      FROM (
                        SELECT
                          *
                        FROM "t2" AS "t3"
                        WHERE
                          (
                            "t3"."__k" = 1
                          ) OR (
                            "t3"."__k" = 2
                          )
                      ) AS "t10"
                    ) AS "t11"
                    WHERE
                      "t11"."__k" = 1
                      AND (
                        (
                          "t11"."__nk" IS NULL
                        ) OR (
                          "t11"."__nk" <> 1
                        )
                      )
                  ) AS "t14"
                  ASOF LEFT JOIN (
                    SELECT
                      "t3"."__e" AS "__re",
                      "t3"."__t" AS "__rk"
                    FROM "t2" AS "t3"
                    WHERE
                      "t3"."__k" = 3
                  ) AS "t9"
                    ON "t14"."__t2" <= "t9"."__rk" AND "t14"."__e" = "t9"."__re"
                ) AS "t17"
                ASOF LEFT JOIN (
                  SELECT
                    "t3"."__e" AS "__re",
                    "t3"."__t" AS "__rk"
                  FROM "t2" AS "t3"
                  WHERE
                    "t3"."__k" = 4
                ) AS "t8"
                  ON "t17"."__t3" <= "t8"."__rk" AND "t17"."__e" = "t8"."__re"
              ) AS "t20"
              ASOF LEFT JOIN (
                SELECT
                  "t3"."__e" AS "__re",
                  "t3"."__t" AS "__rk"
                FROM "t2" AS "t3"
                WHERE
                  "t3"."__k" = 5
              ) AS "t7"
                ON "t20"."__t4" <= "t7"."__rk" AND "t20"."__e" = "t7"."__re"
            ) AS "t21"
            WHERE
              TRUE
          ) AS "t22"
        ) AS "t23"
        WHERE
          "t23"."__rn" = 0
      ) AS "t24"
    ) AS "t25"
  ) AS "t26"
) AS "t27"
ORDER BY
  CAST("t27"."step" AS BIGINT) ASC
