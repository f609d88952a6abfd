WITH "t1" AS (
  SELECT
    "t0"."worker_id" AS "__e",
    DATEDIFF(MICROSECOND, TIMESTAMP_FROM_PARTS(1970, 1, 1, 0, 0, 0, 0), "t0"."ts") AS "__t",
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
    ELSE CAST(NULL AS VARCHAR)
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
  ) AS "step_conversion",
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
    CAST(NULLIF(IFF(_u.pos = _u_2.pos_2, _u_2."step", NULL), '') AS TINYINT) AS "step"
  FROM (
    SELECT
      COALESCE(COUNT_IF("t25"."__depth" >= 1), 0) AS "__n1",
      COALESCE(COUNT_IF("t25"."__depth" >= 2), 0) AS "__n2",
      MEDIAN(CAST("t25"."__t2" - "t25"."__t1" AS DOUBLE) / 1000000) AS "__med2",
      AVG(CAST("t25"."__t2" - "t25"."__t1" AS DOUBLE) / 1000000) AS "__avg2",
      COALESCE(COUNT_IF("t25"."__depth" >= 3), 0) AS "__n3",
      MEDIAN(CAST("t25"."__t3" - "t25"."__t2" AS DOUBLE) / 1000000) AS "__med3",
      AVG(CAST("t25"."__t3" - "t25"."__t2" AS DOUBLE) / 1000000) AS "__avg3",
      COALESCE(COUNT_IF("t25"."__depth" >= 4), 0) AS "__n4",
      MEDIAN(CAST("t25"."__t4" - "t25"."__t3" AS DOUBLE) / 1000000) AS "__med4",
      AVG(CAST("t25"."__t4" - "t25"."__t3" AS DOUBLE) / 1000000) AS "__avg4",
      COALESCE(COUNT_IF("t25"."__depth" >= 5), 0) AS "__n5",
      MEDIAN(CAST("t25"."__t5" - "t25"."__t4" AS DOUBLE) / 1000000) AS "__med5",
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
              ORDER BY "t22"."__depth" DESC NULLS LAST, COALESCE("t22"."__t5", "t22"."__t4", "t22"."__t3", "t22"."__t2", "t22"."__t1") ASC, "t22"."__t1" DESC NULLS LAST, "t22"."__t2" DESC NULLS LAST, "t22"."__t3" DESC NULLS LAST, "t22"."__t4" DESC NULLS LAST
            ) - 1 AS "__rn"
          FROM (
            SELECT
              "t21"."__e",
              "t21"."__t1",
              "t21"."__t2",
              "t21"."__t3",
              "t21"."__t4",
              IFF(
                (
                  "t21"."__ct" - "t21"."__t1"
                ) <= 2592000000000,
                "t21"."__ct",
                CAST(NULL AS BIGINT)
              ) AS "__t5",
              1 + CAST(IFF("t21"."__t2" IS NOT NULL, 1, 0) AS BIGINT) + CAST(IFF("t21"."__t3" IS NOT NULL, 1, 0) AS BIGINT) + CAST(IFF("t21"."__t4" IS NOT NULL, 1, 0) AS BIGINT) + CAST(IFF(
                IFF(
                  (
                    "t21"."__ct" - "t21"."__t1"
                  ) <= 2592000000000,
                  "t21"."__ct",
                  CAST(NULL AS BIGINT)
                ) IS NOT NULL,
                1,
                0
              ) AS BIGINT) AS "__depth",
              TRUE AS "__clean"
            FROM (
              SELECT
                "t20"."__e",
                "t20"."__t1",
                "t20"."__t2",
                "t20"."__t3",
                "t20"."__t4",
                "t20"."__mk",
                "t20"."__side",
                IFF(
                  "t20"."__mk" IS NULL,
                  CAST(NULL AS BIGINT),
                  MIN("t20"."__ct") OVER (
                    PARTITION BY "t20"."__e"
                    ORDER BY "t20"."__mk" DESC NULLS LAST, "t20"."__side" DESC NULLS LAST
                    ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
                  )
                ) AS "__ct"
              FROM (
                SELECT
                  *
                FROM (
                  SELECT
                    "t18"."__e",
                    "t18"."__t1",
                    "t18"."__t2",
                    "t18"."__t3",
                    "t18"."__t4",
                    "t18"."__t4" AS "__mk",
                    0 AS "__side",
                    CAST(NULL AS BIGINT) AS "__ct"
                  FROM (
                    SELECT
                      "t17"."__e",
                      "t17"."__t1",
                      "t17"."__t2",
                      "t17"."__t3",
                      IFF(
                        (
                          "t17"."__ct" - "t17"."__t1"
                        ) <= 2592000000000,
                        "t17"."__ct",
                        CAST(NULL AS BIGINT)
                      ) AS "__t4"
                    FROM (
                      SELECT
                        "t16"."__e",
                        "t16"."__t1",
                        "t16"."__t2",
                        "t16"."__t3",
                        "t16"."__mk",
                        "t16"."__side",
                        IFF(
                          "t16"."__mk" IS NULL,
                          CAST(NULL AS BIGINT),
                          MIN("t16"."__ct") OVER (
                            PARTITION BY "t16"."__e"
                            ORDER BY "t16"."__mk" DESC NULLS LAST, "t16"."__side" DESC NULLS LAST
                            ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
                          )
                        ) AS "__ct"
                      FROM (
                        SELECT
                          *
                        FROM (
                          SELECT
                            "t14"."__e",
                            "t14"."__t1",
                            "t14"."__t2",
                            "t14"."__t3",
                            "t14"."__t3" AS "__mk",
                            0 AS "__side",
                            CAST(NULL AS BIGINT) AS "__ct"
                          FROM (
                            SELECT
                              "t13"."__e",
                              "t13"."__t1",
                              "t13"."__t2",
                              IFF(
                                (
                                  "t13"."__ct" - "t13"."__t1"
                                ) <= 2592000000000,
                                "t13"."__ct",
                                CAST(NULL AS BIGINT)
                              ) AS "__t3"
                            FROM (
                              SELECT
                                "t12"."__e",
                                "t12"."__t1",
                                "t12"."__t2",
                                "t12"."__mk",
                                "t12"."__side",
                                IFF(
                                  "t12"."__mk" IS NULL,
                                  CAST(NULL AS BIGINT),
                                  MIN("t12"."__ct") OVER (
                                    PARTITION BY "t12"."__e"
                                    ORDER BY "t12"."__mk" DESC NULLS LAST, "t12"."__side" DESC NULLS LAST
                                    ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
                                  )
                                ) AS "__ct"
                              FROM (
                                SELECT
                                  *
                                FROM (
                                  SELECT
                                    "t10"."__e",
                                    "t10"."__t1",
                                    "t10"."__t2",
                                    "t10"."__t2" AS "__mk",
                                    0 AS "__side",
                                    CAST(NULL AS BIGINT) AS "__ct"
                                  FROM (
                                    SELECT
                                      "t9"."__e",
                                      "t9"."__t1",
                                      IFF((
                                        "t9"."__ct" - "t9"."__t1"
                                      ) <= 2592000000000, "t9"."__ct", CAST(NULL AS BIGINT)) AS "__t2"
                                    FROM (
                                      SELECT
                                        "t8"."__e",
                                        "t8"."__t1",
                                        "t8"."__mk",
                                        "t8"."__side",
                                        IFF(
                                          "t8"."__mk" IS NULL,
                                          CAST(NULL AS BIGINT),
                                          MIN("t8"."__ct") OVER (
                                            PARTITION BY "t8"."__e"
                                            ORDER BY "t8"."__mk" DESC NULLS LAST, "t8"."__side" DESC NULLS LAST
                                            ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
                                          )
                                        ) AS "__ct"
                                      FROM (
                                        SELECT
                                          *
                                        FROM (
                                          SELECT
                                            "t2"."__e",
                                            "t2"."__t" AS "__t1",
                                            "t2"."__t" AS "__mk",
                                            0 AS "__side",
                                            CAST(NULL AS BIGINT) AS "__ct"
                                          FROM "t1" AS "t2"
                                          WHERE
                                            "t2"."__k" = 1
                                        ) AS "t6"
                                        UNION ALL
                                        SELECT
                                          *
                                        FROM (
                                          SELECT
                                            "t2"."__e",
                                            CAST(NULL AS BIGINT) AS "__t1",
                                            "t2"."__t" AS "__mk",
                                            1 AS "__side",
                                            "t2"."__t" AS "__ct"
                                          FROM "t1" AS "t2"
                                          WHERE
                                            "t2"."__k" = 2
                                        ) AS "t7"
                                      ) AS "t8"
                                    ) AS "t9"
                                    WHERE
                                      "t9"."__side" = 0
                                  ) AS "t10"
                                ) AS "t11"
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
                              ) AS "t12"
                            ) AS "t13"
                            WHERE
                              "t13"."__side" = 0
                          ) AS "t14"
                        ) AS "t15"
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
                      ) AS "t16"
                    ) AS "t17"
                    WHERE
                      "t17"."__side" = 0
                  ) AS "t18"
                ) AS "t19"
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
              ) AS "t20"
            ) AS "t21"
            WHERE
              "t21"."__side" = 0 AND TRUE
          ) AS "t22"
        ) AS "t23"
        WHERE
          "t23"."__rn" = 0
      ) AS "t24"
    ) AS "t25"
  ) AS "t26"
  CROSS JOIN TABLE(FLATTEN(INPUT => ARRAY_GENERATE_RANGE(
    0,
    (
      GREATEST(
        ARRAY_SIZE(
          SPLIT(
            ARRAY_TO_STRING(NULLIF([1, 2, 3, 4, 5], []), '<guid-g1>'),
            '<guid-g1>'
          )
        )
      ) - 1
    ) + 1
  ))) AS _u(seq, key, path, index, pos, this)
  CROSS JOIN TABLE(FLATTEN(INPUT => SPLIT(
    ARRAY_TO_STRING(NULLIF([1, 2, 3, 4, 5], []), '<guid-g1>'),
    '<guid-g1>'
  ))) AS _u_2(seq, key, path, pos_2, "step", this)
  WHERE
    _u.pos = _u_2.pos_2
    OR (
      _u.pos > (
        ARRAY_SIZE(
          SPLIT(
            ARRAY_TO_STRING(NULLIF([1, 2, 3, 4, 5], []), '<guid-g1>'),
            '<guid-g1>'
          )
        ) - 1
      )
      AND _u_2.pos_2 = (
        ARRAY_SIZE(
          SPLIT(
            ARRAY_TO_STRING(NULLIF([1, 2, 3, 4, 5], []), '<guid-g1>'),
            '<guid-g1>'
          )
        ) - 1
      )
    )
) AS "t27"
ORDER BY
  CAST("t27"."step" AS BIGINT) ASC
