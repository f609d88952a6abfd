WITH "t1" AS (
  SELECT
    "t0"."worker_id" AS "__e",
    CAST(CAST(EXTRACT('epoch' FROM "t0"."ts") AS DECIMAL(38, 6)) * 1000000 AS BIGINT) AS "__t",
    CAST(CASE
      WHEN "t0"."event_type" = 'signup'
      THEN 1
      WHEN "t0"."event_type" = 'profile_completed'
      THEN 2
      WHEN "t0"."event_type" = 'application'
      THEN 3
      WHEN "t0"."event_type" = 'task_accepted'
      THEN 4
      WHEN "t0"."event_type" = 'task_completed'
      THEN 5
      ELSE 0
    END AS SMALLINT) AS "__k"
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
)
SELECT
  CAST("t25"."step" AS BIGINT) AS "step",
  CASE
    WHEN CAST("t25"."step" AS BIGINT) = 1
    THEN 'signup'
    WHEN CAST("t25"."step" AS BIGINT) = 2
    THEN 'profile_completed'
    WHEN CAST("t25"."step" AS BIGINT) = 3
    THEN 'application'
    WHEN CAST("t25"."step" AS BIGINT) = 4
    THEN 'task_accepted'
    WHEN CAST("t25"."step" AS BIGINT) = 5
    THEN 'task_completed'
    ELSE CAST(NULL AS VARCHAR)
  END AS "step_name",
  CASE
    WHEN CAST("t25"."step" AS BIGINT) = 1
    THEN "t25"."__n1"
    WHEN CAST("t25"."step" AS BIGINT) = 2
    THEN "t25"."__n2"
    WHEN CAST("t25"."step" AS BIGINT) = 3
    THEN "t25"."__n3"
    WHEN CAST("t25"."step" AS BIGINT) = 4
    THEN "t25"."__n4"
    WHEN CAST("t25"."step" AS BIGINT) = 5
    THEN "t25"."__n5"
    ELSE CAST(NULL AS BIGINT)
  END AS "entities",
  CAST(CASE
    WHEN CAST("t25"."step" AS BIGINT) = 1
    THEN "t25"."__n1"
    WHEN CAST("t25"."step" AS BIGINT) = 2
    THEN "t25"."__n2"
    WHEN CAST("t25"."step" AS BIGINT) = 3
    THEN "t25"."__n3"
    WHEN CAST("t25"."step" AS BIGINT) = 4
    THEN "t25"."__n4"
    WHEN CAST("t25"."step" AS BIGINT) = 5
    THEN "t25"."__n5"
    ELSE CAST(NULL AS BIGINT)
  END AS DOUBLE PRECISION) / NULLIF(CAST("t25"."__n1" AS DOUBLE PRECISION), 0) AS "conversion",
  CASE
    WHEN CAST("t25"."step" AS BIGINT) = 1
    THEN 1.0
    ELSE CAST(CASE
      WHEN CAST("t25"."step" AS BIGINT) = 1
      THEN "t25"."__n1"
      WHEN CAST("t25"."step" AS BIGINT) = 2
      THEN "t25"."__n2"
      WHEN CAST("t25"."step" AS BIGINT) = 3
      THEN "t25"."__n3"
      WHEN CAST("t25"."step" AS BIGINT) = 4
      THEN "t25"."__n4"
      WHEN CAST("t25"."step" AS BIGINT) = 5
      THEN "t25"."__n5"
      ELSE CAST(NULL AS BIGINT)
    END AS DOUBLE PRECISION) / NULLIF(
      CASE
        WHEN CAST("t25"."step" AS BIGINT) = 1
        THEN CAST("t25"."__n1" AS DOUBLE PRECISION)
        WHEN CAST("t25"."step" AS BIGINT) = 2
        THEN CAST("t25"."__n1" AS DOUBLE PRECISION)
        WHEN CAST("t25"."step" AS BIGINT) = 3
        THEN CAST("t25"."__n2" AS DOUBLE PRECISION)
        WHEN CAST("t25"."step" AS BIGINT) = 4
        THEN CAST("t25"."__n3" AS DOUBLE PRECISION)
        WHEN CAST("t25"."step" AS BIGINT) = 5
        THEN CAST("t25"."__n4" AS DOUBLE PRECISION)
        ELSE CAST(NULL AS DOUBLE PRECISION)
      END,
      0
    )
  END AS "step_conversion",
  CASE
    WHEN CAST("t25"."step" AS BIGINT) = 2
    THEN "t25"."__med2"
    WHEN CAST("t25"."step" AS BIGINT) = 3
    THEN "t25"."__med3"
    WHEN CAST("t25"."step" AS BIGINT) = 4
    THEN "t25"."__med4"
    WHEN CAST("t25"."step" AS BIGINT) = 5
    THEN "t25"."__med5"
    ELSE CAST(NULL AS DOUBLE PRECISION)
  END AS "median_seconds",
  CASE
    WHEN CAST("t25"."step" AS BIGINT) = 2
    THEN "t25"."__avg2"
    WHEN CAST("t25"."step" AS BIGINT) = 3
    THEN "t25"."__avg3"
    WHEN CAST("t25"."step" AS BIGINT) = 4
    THEN "t25"."__avg4"
    WHEN CAST("t25"."step" AS BIGINT) = 5
    THEN "t25"."__avg5"
    ELSE CAST(NULL AS DOUBLE PRECISION)
  END AS "avg_seconds"
FROM (
  SELECT
    "t24"."__n1",
    "t24"."__n2",
    "t24"."__med2",
    "t24"."__avg2",
    "t24"."__n3",
    "t24"."__med3",
    "t24"."__avg3",
    "t24"."__n4",
    "t24"."__med4",
    "t24"."__avg4",
    "t24"."__n5",
    "t24"."__med5",
    "t24"."__avg5",
    UNNEST(ARRAY[1, 2, 3, 4, 5]) AS "step"
  FROM (
    SELECT
      COALESCE(COUNT(*) FILTER(WHERE
        "t22"."__depth" >= 1), 0) AS "__n1",
      COALESCE(COUNT(*) FILTER(WHERE
        "t22"."__depth" >= 2), 0) AS "__n2",
      PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY
        CAST("t22"."__t2" - "t22"."__t1" AS DOUBLE PRECISION) / 1000000) AS "__med2",
      AVG(CAST("t22"."__t2" - "t22"."__t1" AS DOUBLE PRECISION) / 1000000) AS "__avg2",
      COALESCE(COUNT(*) FILTER(WHERE
        "t22"."__depth" >= 3), 0) AS "__n3",
      PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY
        CAST("t22"."__t3" - "t22"."__t2" AS DOUBLE PRECISION) / 1000000) AS "__med3",
      AVG(CAST("t22"."__t3" - "t22"."__t2" AS DOUBLE PRECISION) / 1000000) AS "__avg3",
      COALESCE(COUNT(*) FILTER(WHERE
        "t22"."__depth" >= 4), 0) AS "__n4",
      PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY
        CAST("t22"."__t4" - "t22"."__t3" AS DOUBLE PRECISION) / 1000000) AS "__med4",
      AVG(CAST("t22"."__t4" - "t22"."__t3" AS DOUBLE PRECISION) / 1000000) AS "__avg4",
      COALESCE(COUNT(*) FILTER(WHERE
        "t22"."__depth" >= 5), 0) AS "__n5",
      PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY
        CAST("t22"."__t5" - "t22"."__t4" AS DOUBLE PRECISION) / 1000000) AS "__med5",
      AVG(CAST("t22"."__t5" - "t22"."__t4" AS DOUBLE PRECISION) / 1000000) AS "__avg5"
    FROM (
      SELECT
        *
      FROM (
        SELECT
          "t20"."__e",
          "t20"."__t1",
          "t20"."__t2",
          "t20"."__t3",
          "t20"."__t4",
          "t20"."__t5",
          "t20"."__depth",
          "t20"."__clean",
          ROW_NUMBER() OVER (
            PARTITION BY "t20"."__e"
            ORDER BY "t20"."__depth" DESC NULLS LAST, COALESCE("t20"."__t5", "t20"."__t4", "t20"."__t3", "t20"."__t2", "t20"."__t1") ASC, "t20"."__t1" DESC NULLS LAST
            ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING
          ) - 1 AS "__rn"
        FROM (
          SELECT
            "t19"."__e",
            "t19"."__t1",
            "t19"."__t2",
            "t19"."__t3",
            "t19"."__t4",
            CASE
              WHEN (
                "t19"."__ct" - "t19"."__t1"
              ) <= 2592000000000
              THEN "t19"."__ct"
              ELSE CAST(NULL AS BIGINT)
            END AS "__t5",
            1 + CAST(CASE WHEN "t19"."__t2" IS NOT NULL THEN 1 ELSE 0 END AS BIGINT) + CAST(CASE WHEN "t19"."__t3" IS NOT NULL THEN 1 ELSE 0 END AS BIGINT) + CAST(CASE WHEN "t19"."__t4" IS NOT NULL THEN 1 ELSE 0 END AS BIGINT) + CAST(CASE
              WHEN CASE
                WHEN (
                  "t19"."__ct" - "t19"."__t1"
                ) <= 2592000000000
                THEN "t19"."__ct"
                ELSE CAST(NULL AS BIGINT)
              END IS NOT NULL
              THEN 1
              ELSE 0
            END AS BIGINT) AS "__depth",
            TRUE AS "__clean"
          FROM (
            SELECT
              "t18"."__e",
              "t18"."__t1",
              "t18"."__t2",
              "t18"."__t3",
              "t18"."__t4",
              "t18"."__mk",
              "t18"."__side",
              CASE
                WHEN "t18"."__mk" IS NULL
                THEN CAST(NULL AS BIGINT)
                ELSE MIN("t18"."__ct") OVER (
                  PARTITION BY "t18"."__e"
                  ORDER BY "t18"."__mk" DESC NULLS LAST, "t18"."__side" DESC NULLS LAST
                  ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
                )
              END AS "__ct"
            FROM (
              SELECT
                *
              FROM (
                SELECT
                  "t16"."__e",
                  "t16"."__t1",
                  "t16"."__t2",
                  "t16"."__t3",
                  "t16"."__t4",
                  "t16"."__t4" AS "__mk",
                  0 AS "__side",
                  CAST(NULL AS BIGINT) AS "__ct"
                FROM (
                  SELECT
                    "t15"."__e",
                    "t15"."__t1",
                    "t15"."__t2",
                    "t15"."__t3",
                    CASE
                      WHEN (
                        "t15"."__ct" - "t15"."__t1"
                      ) <= 2592000000000
                      THEN "t15"."__ct"
                      ELSE CAST(NULL AS BIGINT)
                    END AS "__t4"
                  FROM (
                    SELECT
                      "t14"."__e",
                      "t14"."__t1",
                      "t14"."__t2",
                      "t14"."__t3",
                      "t14"."__mk",
                      "t14"."__side",
                      CASE
                        WHEN "t14"."__mk" IS NULL
                        THEN CAST(NULL AS BIGINT)
                        ELSE MIN("t14"."__ct") OVER (
                          PARTITION BY "t14"."__e"
                          ORDER BY "t14"."__mk" DESC NULLS LAST, "t14"."__side" DESC NULLS LAST
                          ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
                        )
                      END AS "__ct"
                    FROM (
                      SELECT
                        *
                      FROM (
                        SELECT
                          "t12"."__e",
                          "t12"."__t1",
                          "t12"."__t2",
                          "t12"."__t3",
                          "t12"."__t3" AS "__mk",
                          0 AS "__side",
                          CAST(NULL AS BIGINT) AS "__ct"
                        FROM (
                          SELECT
                            "t11"."__e",
                            "t11"."__t1",
                            "t11"."__t2",
                            CASE
                              WHEN (
                                "t11"."__ct" - "t11"."__t1"
                              ) <= 2592000000000
                              THEN "t11"."__ct"
                              ELSE CAST(NULL AS BIGINT)
                            END AS "__t3"
                          FROM (
                            SELECT
                              "t10"."__e",
                              "t10"."__t1",
                              "t10"."__t2",
                              "t10"."__mk",
                              "t10"."__side",
                              CASE
                                WHEN "t10"."__mk" IS NULL
                                THEN CAST(NULL AS BIGINT)
                                ELSE MIN("t10"."__ct") OVER (
                                  PARTITION BY "t10"."__e"
                                  ORDER BY "t10"."__mk" DESC NULLS LAST, "t10"."__side" DESC NULLS LAST
                                  ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
                                )
                              END AS "__ct"
                            FROM (
                              SELECT
                                *
                              FROM (
                                SELECT
                                  "t8"."__e",
                                  "t8"."__t1",
                                  "t8"."__t2",
                                  "t8"."__t2" AS "__mk",
                                  0 AS "__side",
                                  CAST(NULL AS BIGINT) AS "__ct"
                                FROM (
                                  SELECT
                                    "t7"."__e",
                                    "t7"."__t" AS "__t1",
                                    CASE
                                      WHEN (
                                        "t7"."__nk" = 2
                                      )
                                      AND (
                                        (
                                          "t7"."__nt" - "t7"."__t"
                                        ) <= 2592000000000
                                      )
                                      THEN "t7"."__nt"
                                      ELSE CAST(NULL AS BIGINT)
                                    END AS "__t2"
                                  FROM (
                                    SELECT
                                      "t6"."__e",
                                      "t6"."__t",
                                      "t6"."__k",
                                      LEAD("t6"."__k") OVER (
                                        PARTITION BY "t6"."__e"
                                        ORDER BY "t6"."__t" ASC, "t6"."__k" ASC
                                        ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING
                                      ) AS "__nk",
                                      LEAD("t6"."__t") OVER (
                                        PARTITION BY "t6"."__e"
                                        ORDER BY "t6"."__t" ASC, "t6"."__k" ASC
                                        ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING
                                      ) AS "__nt"
                                    FROM (
                                      SELECT
                                        *
                                      FROM "t1" AS "t2"
                                      WHERE
                                        (
                                          "t2"."__k" = 1
                                        ) OR (
                                          "t2"."__k" = 2
                                        )
                                    ) AS "t6"
                                  ) AS "t7"
                                  WHERE
                                    "t7"."__k" = 1
                                    AND (
                                      (
                                        "t7"."__nk" IS NULL
                                      ) OR (
                                        "t7"."__nk" <> 1
                                      )
                                    )
                                ) AS "t8"
                              ) AS "t9"
                              UNION ALL
                              SELECT
                                *
                              FROM (
                                SELECT
                                  "t2"."__e",
                                  CAST(NULL AS BIGINT) AS "__t1",
                                  CAST(NULL AS BIGINT) AS "__t2",
                                  "t2"."__t" AS "__mk",
                                  1 AS "__side",
                                  "t2"."__t" AS "__ct"
                                FROM "t1" AS "t2"
                                WHERE
                                  "t2"."__k" = 3
                              ) AS "t5"
                            ) AS "t10"
                          ) AS "t11"
                          WHERE
                            "t11"."__side" = 0
                        ) AS "t12"
                      ) AS "t13"
                      UNION ALL
                      SELECT
                        *
                      FROM (
                        SELECT
                          "t2"."__e",
                          CAST(NULL AS BIGINT) AS "__t1",
                          CAST(NULL AS BIGINT) AS "__t2",
                          CAST(NULL AS BIGINT) AS "__t3",
                          "t2"."__t" AS "__mk",
                          1 AS "__side",
                          "t2"."__t" AS "__ct"
                        FROM "t1" AS "t2"
                        WHERE
                          "t2"."__k" = 4
                      ) AS "t4"
                    ) AS "t14"
                  ) AS "t15"
                  WHERE
                    "t15"."__side" = 0
                ) AS "t16"
              ) AS "t17"
              UNION ALL
              SELECT
                *
              FROM (
                SELECT
                  "t2"."__e",
                  CAST(NULL AS BIGINT) AS "__t1",
                  CAST(NULL AS BIGINT) AS "__t2",
                  CAST(NULL AS BIGINT) AS "__t3",
                  CAST(NULL AS BIGINT) AS "__t4",
                  "t2"."__t" AS "__mk",
                  1 AS "__side",
                  "t2"."__t" AS "__ct"
                FROM "t1" AS "t2"
                WHERE
                  "t2"."__k" = 5
              ) AS "t3"
            ) AS "t18"
          ) AS "t19"
          WHERE
            "t19"."__side" = 0 AND TRUE
        ) AS "t20"
      ) AS "t21"
      WHERE
        "t21"."__rn" = 0
    ) AS "t22"
  ) AS "t24"
) AS "t25"
ORDER BY
  CAST("t25"."step" AS BIGINT) ASC
