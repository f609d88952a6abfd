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
  CAST("t28"."step" AS BIGINT) AS "step",
  CASE
    WHEN CAST("t28"."step" AS BIGINT) = 1
    THEN 'signup'
    WHEN CAST("t28"."step" AS BIGINT) = 2
    THEN 'profile_completed'
    WHEN CAST("t28"."step" AS BIGINT) = 3
    THEN 'application'
    WHEN CAST("t28"."step" AS BIGINT) = 4
    THEN 'task_accepted'
    WHEN CAST("t28"."step" AS BIGINT) = 5
    THEN 'task_completed'
    ELSE CAST(NULL AS TEXT)
  END AS "step_name",
  CASE
    WHEN CAST("t28"."step" AS BIGINT) = 1
    THEN "t28"."__n1"
    WHEN CAST("t28"."step" AS BIGINT) = 2
    THEN "t28"."__n2"
    WHEN CAST("t28"."step" AS BIGINT) = 3
    THEN "t28"."__n3"
    WHEN CAST("t28"."step" AS BIGINT) = 4
    THEN "t28"."__n4"
    WHEN CAST("t28"."step" AS BIGINT) = 5
    THEN "t28"."__n5"
    ELSE CAST(NULL AS BIGINT)
  END AS "entities",
  CAST(CASE
    WHEN CAST("t28"."step" AS BIGINT) = 1
    THEN "t28"."__n1"
    WHEN CAST("t28"."step" AS BIGINT) = 2
    THEN "t28"."__n2"
    WHEN CAST("t28"."step" AS BIGINT) = 3
    THEN "t28"."__n3"
    WHEN CAST("t28"."step" AS BIGINT) = 4
    THEN "t28"."__n4"
    WHEN CAST("t28"."step" AS BIGINT) = 5
    THEN "t28"."__n5"
    ELSE CAST(NULL AS BIGINT)
  END AS DOUBLE) / NULLIF(CAST("t28"."__n1" AS DOUBLE), 0) AS "conversion",
  CAST(CASE
    WHEN CAST("t28"."step" AS BIGINT) = 1
    THEN "t28"."__n1"
    WHEN CAST("t28"."step" AS BIGINT) = 2
    THEN "t28"."__n2"
    WHEN CAST("t28"."step" AS BIGINT) = 3
    THEN "t28"."__n3"
    WHEN CAST("t28"."step" AS BIGINT) = 4
    THEN "t28"."__n4"
    WHEN CAST("t28"."step" AS BIGINT) = 5
    THEN "t28"."__n5"
    ELSE CAST(NULL AS BIGINT)
  END AS DOUBLE) / NULLIF(
    CASE
      WHEN CAST("t28"."step" AS BIGINT) = 1
      THEN CAST("t28"."__n1" AS DOUBLE)
      WHEN CAST("t28"."step" AS BIGINT) = 2
      THEN CAST("t28"."__n1" AS DOUBLE)
      WHEN CAST("t28"."step" AS BIGINT) = 3
      THEN CAST("t28"."__n2" AS DOUBLE)
      WHEN CAST("t28"."step" AS BIGINT) = 4
      THEN CAST("t28"."__n3" AS DOUBLE)
      WHEN CAST("t28"."step" AS BIGINT) = 5
      THEN CAST("t28"."__n4" AS DOUBLE)
      ELSE CAST(NULL AS DOUBLE)
    END,
    0
  ) AS "step_conversion",
  CASE
    WHEN CAST("t28"."step" AS BIGINT) = 2
    THEN "t28"."__med2"
    WHEN CAST("t28"."step" AS BIGINT) = 3
    THEN "t28"."__med3"
    WHEN CAST("t28"."step" AS BIGINT) = 4
    THEN "t28"."__med4"
    WHEN CAST("t28"."step" AS BIGINT) = 5
    THEN "t28"."__med5"
    ELSE CAST(NULL AS DOUBLE)
  END AS "median_seconds",
  CASE
    WHEN CAST("t28"."step" AS BIGINT) = 2
    THEN "t28"."__avg2"
    WHEN CAST("t28"."step" AS BIGINT) = 3
    THEN "t28"."__avg3"
    WHEN CAST("t28"."step" AS BIGINT) = 4
    THEN "t28"."__avg4"
    WHEN CAST("t28"."step" AS BIGINT) = 5
    THEN "t28"."__avg5"
    ELSE CAST(NULL AS DOUBLE)
  END AS "avg_seconds"
FROM (
  SELECT
    "t27"."__n1",
    "t27"."__n2",
    "t27"."__med2",
    "t27"."__avg2",
    "t27"."__n3",
    "t27"."__med3",
    "t27"."__avg3",
    "t27"."__n4",
    "t27"."__med4",
    "t27"."__avg4",
    "t27"."__n5",
    "t27"."__med5",
    "t27"."__avg5",
    UNNEST(CAST([1, 2, 3, 4, 5] AS TINYINT[])) AS "step"
  FROM (
    SELECT
      COALESCE(COUNT(*) FILTER(WHERE
        "t26"."__depth" >= 1), 0) AS "__n1",
      COALESCE(COUNT(*) FILTER(WHERE
        "t26"."__depth" >= 2), 0) AS "__n2",
      QUANTILE_CONT(CAST("t26"."__t2" - "t26"."__t1" AS DOUBLE) / 1000000, 0.5) AS "__med2",
      AVG(CAST("t26"."__t2" - "t26"."__t1" AS DOUBLE) / 1000000) AS "__avg2",
      COALESCE(COUNT(*) FILTER(WHERE
        "t26"."__depth" >= 3), 0) AS "__n3",
      QUANTILE_CONT(CAST("t26"."__t3" - "t26"."__t2" AS DOUBLE) / 1000000, 0.5) AS "__med3",
      AVG(CAST("t26"."__t3" - "t26"."__t2" AS DOUBLE) / 1000000) AS "__avg3",
      COALESCE(COUNT(*) FILTER(WHERE
        "t26"."__depth" >= 4), 0) AS "__n4",
      QUANTILE_CONT(CAST("t26"."__t4" - "t26"."__t3" AS DOUBLE) / 1000000, 0.5) AS "__med4",
      AVG(CAST("t26"."__t4" - "t26"."__t3" AS DOUBLE) / 1000000) AS "__avg4",
      COALESCE(COUNT(*) FILTER(WHERE
        "t26"."__depth" >= 5), 0) AS "__n5",
      QUANTILE_CONT(CAST("t26"."__t5" - "t26"."__t4" AS DOUBLE) / 1000000, 0.5) AS "__med5",
      AVG(CAST("t26"."__t5" - "t26"."__t4" AS DOUBLE) / 1000000) AS "__avg5"
    FROM (
      SELECT
        "t25".*
        EXCLUDE ("__rn")
      FROM (
        SELECT
          *
        FROM (
          SELECT
            "t23"."__e",
            "t23"."__t1",
            "t23"."__t2",
            "t23"."__t3",
            "t23"."__t4",
            "t23"."__t5",
            "t23"."__depth",
            "t23"."__clean",
            ROW_NUMBER() OVER (
              PARTITION BY "t23"."__e"
              ORDER BY "t23"."__depth" DESC, COALESCE("t23"."__t5", "t23"."__t4", "t23"."__t3", "t23"."__t2", "t23"."__t1") ASC, "t23"."__t1" DESC, "t23"."__t2" DESC, "t23"."__t3" DESC, "t23"."__t4" DESC
              ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING
            ) - 1 AS "__rn"
          FROM (
            SELECT
              "t22"."__e",
              "t22"."__t1",
              "t22"."__t2",
              "t22"."__t3",
              "t22"."__t4",
              CASE
                WHEN (
                  "t22"."__ct" - "t22"."__t1"
                ) <= 2592000000000
                THEN "t22"."__ct"
                ELSE CAST(NULL AS BIGINT)
              END AS "__t5",
              1 + CAST(CASE WHEN "t22"."__t2" IS NOT NULL THEN 1 ELSE 0 END AS BIGINT) + CAST(CASE WHEN "t22"."__t3" IS NOT NULL THEN 1 ELSE 0 END AS BIGINT) + CAST(CASE WHEN "t22"."__t4" IS NOT NULL THEN 1 ELSE 0 END AS BIGINT) + CAST(CASE
                WHEN CASE
                  WHEN (
                    "t22"."__ct" - "t22"."__t1"
                  ) <= 2592000000000
                  THEN "t22"."__ct"
                  ELSE CAST(NULL AS BIGINT)
                END IS NOT NULL
                THEN 1
                ELSE 0
              END AS BIGINT) AS "__depth",
              TRUE AS "__clean"
            FROM (
              SELECT
                "t21"."__e",
                "t21"."__t1",
                "t21"."__t2",
                "t21"."__t3",
                "t21"."__t4",
                "t21"."__mk",
                "t21"."__side",
                CASE
                  WHEN "t21"."__mk" IS NULL
                  THEN CAST(NULL AS BIGINT)
                  ELSE MIN("t21"."__ct") OVER (
                    PARTITION BY "t21"."__e"
                    ORDER BY "t21"."__mk" DESC, "t21"."__side" DESC
                    ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
                  )
                END AS "__ct"
              FROM (
                SELECT
                  *
                FROM (
                  SELECT
                    "t19"."__e",
                    "t19"."__t1",
                    "t19"."__t2",
                    "t19"."__t3",
                    "t19"."__t4",
                    "t19"."__t4" AS "__mk",
                    0 AS "__side",
                    CAST(NULL AS BIGINT) AS "__ct"
                  FROM (
                    SELECT
                      "t18"."__e",
                      "t18"."__t1",
                      "t18"."__t2",
                      "t18"."__t3",
                      CASE
                        WHEN (
                          "t18"."__ct" - "t18"."__t1"
                        ) <= 2592000000000
                        THEN "t18"."__ct"
                        ELSE CAST(NULL AS BIGINT)
                      END AS "__t4"
                    FROM (
                      SELECT
                        "t17"."__e",
                        "t17"."__t1",
                        "t17"."__t2",
                        "t17"."__t3",
                        "t17"."__mk",
                        "t17"."__side",
                        CASE
                          WHEN "t17"."__mk" IS NULL
                          THEN CAST(NULL AS BIGINT)
                          ELSE MIN("t17"."__ct") OVER (
                            PARTITION BY "t17"."__e"
                            ORDER BY "t17"."__mk" DESC, "t17"."__side" DESC
                            ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
                          )
                        END AS "__ct"
                      FROM (
                        SELECT
                          *
                        FROM (
                          SELECT
                            "t15"."__e",
                            "t15"."__t1",
                            "t15"."__t2",
                            "t15"."__t3",
                            "t15"."__t3" AS "__mk",
                            0 AS "__side",
                            CAST(NULL AS BIGINT) AS "__ct"
                          FROM (
                            SELECT
                              "t14"."__e",
                              "t14"."__t1",
                              "t14"."__t2",
                              CASE
                                WHEN (
                                  "t14"."__ct" - "t14"."__t1"
                                ) <= 2592000000000
                                THEN "t14"."__ct"
                                ELSE CAST(NULL AS BIGINT)
                              END AS "__t3"
                            FROM (
                              SELECT
                                "t13"."__e",
                                "t13"."__t1",
                                "t13"."__t2",
                                "t13"."__mk",
                                "t13"."__side",
                                CASE
                                  WHEN "t13"."__mk" IS NULL
                                  THEN CAST(NULL AS BIGINT)
                                  ELSE MIN("t13"."__ct") OVER (
                                    PARTITION BY "t13"."__e"
                                    ORDER BY "t13"."__mk" DESC, "t13"."__side" DESC
                                    ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
                                  )
                                END AS "__ct"
                              FROM (
                                SELECT
                                  *
                                FROM (
                                  SELECT
                                    "t11"."__e",
                                    "t11"."__t1",
                                    "t11"."__t2",
                                    "t11"."__t2" AS "__mk",
                                    0 AS "__side",
                                    CAST(NULL AS BIGINT) AS "__ct"
                                  FROM (
                                    SELECT
                                      "t10"."__e",
                                      "t10"."__t1",
                                      CASE
                                        WHEN (
                                          "t10"."__ct" - "t10"."__t1"
                                        ) <= 2592000000000
                                        THEN "t10"."__ct"
                                        ELSE CAST(NULL AS BIGINT)
                                      END AS "__t2"
                                    FROM (
                                      SELECT
                                        "t9"."__e",
                                        "t9"."__t1",
                                        "t9"."__mk",
                                        "t9"."__side",
                                        CASE
                                          WHEN "t9"."__mk" IS NULL
                                          THEN CAST(NULL AS BIGINT)
                                          ELSE MIN("t9"."__ct") OVER (
                                            PARTITION BY "t9"."__e"
                                            ORDER BY "t9"."__mk" DESC, "t9"."__side" DESC
                                            ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
                                          )
                                        END AS "__ct"
                                      FROM (
                                        SELECT
                                          *
                                        FROM (
                                          SELECT
                                            "t3"."__e",
                                            "t3"."__t" AS "__t1",
                                            "t3"."__t" AS "__mk",
                                            0 AS "__side",
                                            CAST(NULL AS BIGINT) AS "__ct"
                                          FROM "t2" AS "t3"
                                          WHERE
                                            "t3"."__k" = 1
                                        ) AS "t7"
                                        UNION ALL
                                        SELECT
                                          *
                                        FROM (
                                          SELECT
                                            "t3"."__e",
                                            CAST(NULL AS BIGINT) AS "__t1",
                                            "t3"."__t" AS "__mk",
                                            1 AS "__side",
                                            "t3"."__t" AS "__ct"
                                          FROM "t2" AS "t3"
                                          WHERE
                                            "t3"."__k" = 2
                                        ) AS "t8"
                                      ) AS "t9"
                                    ) AS "t10"
                                    WHERE
                                      "t10"."__side" = 0
                                  ) AS "t11"
                                ) AS "t12"
                                UNION ALL
                                SELECT
                                  *
                                FROM (
                                  SELECT
                                    "t3"."__e",
                                    CAST(NULL AS BIGINT) AS "__t1",
                                    CAST(NULL AS BIGINT) AS "__t2",
                                    "t3"."__t" AS "__mk",
                                    1 AS "__side",
                                    "t3"."__t" AS "__ct"
                                  FROM "t2" AS "t3"
                                  WHERE
                                    "t3"."__k" = 3
                                ) AS "t6"
                              ) AS "t13"
                            ) AS "t14"
                            WHERE
                              "t14"."__side" = 0
                          ) AS "t15"
                        ) AS "t16"
                        UNION ALL
                        SELECT
                          *
                        FROM (
                          SELECT
                            "t3"."__e",
                            CAST(NULL AS BIGINT) AS "__t1",
                            CAST(NULL AS BIGINT) AS "__t2",
                            CAST(NULL AS BIGINT) AS "__t3",
                            "t3"."__t" AS "__mk",
                            1 AS "__side",
                            "t3"."__t" AS "__ct"
                          FROM "t2" AS "t3"
                          WHERE
                            "t3"."__k" = 4
                        ) AS "t5"
                      ) AS "t17"
                    ) AS "t18"
                    WHERE
                      "t18"."__side" = 0
                  ) AS "t19"
                ) AS "t20"
                UNION ALL
                SELECT
                  *
                FROM (
                  SELECT
                    "t3"."__e",
                    CAST(NULL AS BIGINT) AS "__t1",
                    CAST(NULL AS BIGINT) AS "__t2",
                    CAST(NULL AS BIGINT) AS "__t3",
                    CAST(NULL AS BIGINT) AS "__t4",
                    "t3"."__t" AS "__mk",
                    1 AS "__side",
                    "t3"."__t" AS "__ct"
                  FROM "t2" AS "t3"
                  WHERE
                    "t3"."__k" = 5
                ) AS "t4"
              ) AS "t21"
            ) AS "t22"
            WHERE
              "t22"."__side" = 0 AND TRUE
          ) AS "t23"
        ) AS "t24"
        WHERE
          "t24"."__rn" = 0
      ) AS "t25"
    ) AS "t26"
  ) AS "t27"
) AS "t28"
ORDER BY
  CAST("t28"."step" AS BIGINT) ASC
