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
  CAST("t26"."step" AS BIGINT) AS "step",
  CASE
    WHEN CAST("t26"."step" AS BIGINT) = 1
    THEN 'signup'
    WHEN CAST("t26"."step" AS BIGINT) = 2
    THEN 'profile_completed'
    WHEN CAST("t26"."step" AS BIGINT) = 3
    THEN 'application'
    WHEN CAST("t26"."step" AS BIGINT) = 4
    THEN 'task_accepted'
    WHEN CAST("t26"."step" AS BIGINT) = 5
    THEN 'task_completed'
    ELSE CAST(NULL AS VARCHAR)
  END AS "step_name",
  CASE
    WHEN CAST("t26"."step" AS BIGINT) = 1
    THEN "t26"."__n1"
    WHEN CAST("t26"."step" AS BIGINT) = 2
    THEN "t26"."__n2"
    WHEN CAST("t26"."step" AS BIGINT) = 3
    THEN "t26"."__n3"
    WHEN CAST("t26"."step" AS BIGINT) = 4
    THEN "t26"."__n4"
    WHEN CAST("t26"."step" AS BIGINT) = 5
    THEN "t26"."__n5"
    ELSE CAST(NULL AS BIGINT)
  END AS "entities",
  CAST(CASE
    WHEN CAST("t26"."step" AS BIGINT) = 1
    THEN "t26"."__n1"
    WHEN CAST("t26"."step" AS BIGINT) = 2
    THEN "t26"."__n2"
    WHEN CAST("t26"."step" AS BIGINT) = 3
    THEN "t26"."__n3"
    WHEN CAST("t26"."step" AS BIGINT) = 4
    THEN "t26"."__n4"
    WHEN CAST("t26"."step" AS BIGINT) = 5
    THEN "t26"."__n5"
    ELSE CAST(NULL AS BIGINT)
  END AS DOUBLE) / NULLIF(CAST("t26"."__n1" AS DOUBLE), 0) AS "conversion",
  IFF(
    CAST("t26"."step" AS BIGINT) = 1,
    1.0,
    CAST(CASE
      WHEN CAST("t26"."step" AS BIGINT) = 1
      THEN "t26"."__n1"
      WHEN CAST("t26"."step" AS BIGINT) = 2
      THEN "t26"."__n2"
      WHEN CAST("t26"."step" AS BIGINT) = 3
      THEN "t26"."__n3"
      WHEN CAST("t26"."step" AS BIGINT) = 4
      THEN "t26"."__n4"
      WHEN CAST("t26"."step" AS BIGINT) = 5
      THEN "t26"."__n5"
      ELSE CAST(NULL AS BIGINT)
    END AS DOUBLE) / NULLIF(
      CASE
        WHEN CAST("t26"."step" AS BIGINT) = 1
        THEN CAST("t26"."__n1" AS DOUBLE)
        WHEN CAST("t26"."step" AS BIGINT) = 2
        THEN CAST("t26"."__n1" AS DOUBLE)
        WHEN CAST("t26"."step" AS BIGINT) = 3
        THEN CAST("t26"."__n2" AS DOUBLE)
        WHEN CAST("t26"."step" AS BIGINT) = 4
        THEN CAST("t26"."__n3" AS DOUBLE)
        WHEN CAST("t26"."step" AS BIGINT) = 5
        THEN CAST("t26"."__n4" AS DOUBLE)
        ELSE CAST(NULL AS DOUBLE)
      END,
      0
    )
  ) AS "step_conversion",
  CASE
    WHEN CAST("t26"."step" AS BIGINT) = 2
    THEN "t26"."__med2"
    WHEN CAST("t26"."step" AS BIGINT) = 3
    THEN "t26"."__med3"
    WHEN CAST("t26"."step" AS BIGINT) = 4
    THEN "t26"."__med4"
    WHEN CAST("t26"."step" AS BIGINT) = 5
    THEN "t26"."__med5"
    ELSE CAST(NULL AS DOUBLE)
  END AS "median_seconds",
  CASE
    WHEN CAST("t26"."step" AS BIGINT) = 2
    THEN "t26"."__avg2"
    WHEN CAST("t26"."step" AS BIGINT) = 3
    THEN "t26"."__avg3"
    WHEN CAST("t26"."step" AS BIGINT) = 4
    THEN "t26"."__avg4"
    WHEN CAST("t26"."step" AS BIGINT) = 5
    THEN "t26"."__avg5"
    ELSE CAST(NULL AS DOUBLE)
  END AS "avg_seconds"
FROM (
  SELECT
    "t25"."__n1",
    "t25"."__n2",
    "t25"."__med2",
    "t25"."__avg2",
    "t25"."__n3",
    "t25"."__med3",
    "t25"."__avg3",
    "t25"."__n4",
    "t25"."__med4",
    "t25"."__avg4",
    "t25"."__n5",
    "t25"."__med5",
    "t25"."__avg5",
    CAST(NULLIF(IFF(_u.pos = _u_2.pos_2, _u_2."step", NULL), '') AS TINYINT) AS "step"
  FROM (
    SELECT
      COALESCE(COUNT_IF("t24"."__depth" >= 1), 0) AS "__n1",
      COALESCE(COUNT_IF("t24"."__depth" >= 2), 0) AS "__n2",
      MEDIAN(CAST("t24"."__t2" - "t24"."__t1" AS DOUBLE) / 1000000) AS "__med2",
      AVG(CAST("t24"."__t2" - "t24"."__t1" AS DOUBLE) / 1000000) AS "__avg2",
      COALESCE(COUNT_IF("t24"."__depth" >= 3), 0) AS "__n3",
      MEDIAN(CAST("t24"."__t3" - "t24"."__t2" AS DOUBLE) / 1000000) AS "__med3",
      AVG(CAST("t24"."__t3" - "t24"."__t2" AS DOUBLE) / 1000000) AS "__avg3",
      COALESCE(COUNT_IF("t24"."__depth" >= 4), 0) AS "__n4",
      MEDIAN(CAST("t24"."__t4" - "t24"."__t3" AS DOUBLE) / 1000000) AS "__med4",
      AVG(CAST("t24"."__t4" - "t24"."__t3" AS DOUBLE) / 1000000) AS "__avg4",
      COALESCE(COUNT_IF("t24"."__depth" >= 5), 0) AS "__n5",
      MEDIAN(CAST("t24"."__t5" - "t24"."__t4" AS DOUBLE) / 1000000) AS "__med5",
      AVG(CAST("t24"."__t5" - "t24"."__t4" AS DOUBLE) / 1000000) AS "__avg5"
    FROM (
      SELECT
        "t23".*
        EXCLUDE ("__rn")
      FROM (
        SELECT
          *
        FROM (
          SELECT
            "t21"."__e",
            "t21"."__t1",
            "t21"."__t2",
            "t21"."__t3",
            "t21"."__t4",
            "t21"."__t5",
            "t21"."__depth",
            "t21"."__clean",
            ROW_NUMBER() OVER (
              PARTITION BY "t21"."__e"
              ORDER BY "t21"."__depth" DESC NULLS LAST, COALESCE("t21"."__t5", "t21"."__t4", "t21"."__t3", "t21"."__t2", "t21"."__t1") ASC, "t21"."__t1" DESC NULLS LAST
            ) - 1 AS "__rn"
          FROM (
            SELECT
              "t20"."__e",
              "t20"."__t1",
              "t20"."__t2",
              "t20"."__t3",
              "t20"."__t4",
              "t20"."__t5",
              1 + CAST(IFF("t20"."__t2" IS NOT NULL, 1, 0) AS BIGINT) + CAST(IFF("t20"."__t3" IS NOT NULL, 1, 0) AS BIGINT) + CAST(IFF("t20"."__t4" IS NOT NULL, 1, 0) AS BIGINT) + CAST(IFF("t20"."__t5" IS NOT NULL, 1, 0) AS BIGINT) AS "__depth",
              TRUE AS "__clean"
            FROM (
              SELECT
                "t19"."__e",
                "t19"."__t1",
                "t19"."__t2",
                "t19"."__t3",
                "t19"."__t4",
                IFF((
                  "t6"."__rk" - "t19"."__t1"
                ) <= 2592000000000, "t6"."__rk", CAST(NULL AS BIGINT)) AS "__t5"
              FROM (
                SELECT
                  "t16"."__e",
                  "t16"."__t1",
                  "t16"."__t2",
                  "t16"."__t3",
                  IFF((
                    "t7"."__rk" - "t16"."__t1"
                  ) <= 2592000000000, "t7"."__rk", CAST(NULL AS BIGINT)) AS "__t4"
                FROM (
                  SELECT
                    "t13"."__e",
                    "t13"."__t1",
                    "t13"."__t2",
                    IFF((
                      "t8"."__rk" - "t13"."__t1"
                    ) <= 2592000000000, "t8"."__rk", CAST(NULL AS BIGINT)) AS "__t3"
                  FROM (
                    SELECT
                      "t10"."__e",
                      "t10"."__t" AS "__t1",
                      IFF(
                        (
                          "t10"."__nk" = 2
                        )
                        AND (
                          (
                            "t10"."__nt" - "t10"."__t"
                          ) <= 2592000000000
                        ),
                        "t10"."__nt",
                        CAST(NULL AS BIGINT)
                      ) AS "__t2"
                    FROM (
                      SELECT
                        "t9"."__e",
                        "t9"."__t",
                        "t9"."__k",
                        LEAD("t9"."__k") OVER (PARTITION BY "t9"."__e" ORDER BY "t9"."__t" ASC, "t9"."__k" ASC) AS "__nk",
                        LEAD("t9"."__t") OVER (PARTITION BY "t9"."__e" ORDER BY "t9"."__t" ASC, "t9"."__k" ASC) AS "__nt"
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
                      ) AS "t9"
                    ) AS "t10"
                    WHERE
                      "t10"."__k" = 1
                      AND (
                        (
                          "t10"."__nk" IS NULL
                        ) OR (
                          "t10"."__nk" <> 1
                        )
                      )
                  ) AS "t13"
                  ASOF JOIN (
                    SELECT
                      "t2"."__e" AS "__re",
                      "t2"."__t" AS "__rk"
                    FROM "t1" AS "t2"
                    WHERE
                      "t2"."__k" = 3
                  ) AS "t8" MATCH_CONDITION ("t13"."__t2" <= "t8"."__rk")
                    ON "t13"."__e" = "t8"."__re"
                ) AS "t16"
                ASOF JOIN (
                  SELECT
                    "t2"."__e" AS "__re",
                    "t2"."__t" AS "__rk"
                  FROM "t1" AS "t2"
                  WHERE
                    "t2"."__k" = 4
                ) AS "t7" MATCH_CONDITION ("t16"."__t3" <= "t7"."__rk")
                  ON "t16"."__e" = "t7"."__re"
              ) AS "t19"
              ASOF JOIN (
                SELECT
                  "t2"."__e" AS "__re",
                  "t2"."__t" AS "__rk"
                FROM "t1" AS "t2"
                WHERE
                  "t2"."__k" = 5
              ) AS "t6" MATCH_CONDITION ("t19"."__t4" <= "t6"."__rk")
                ON "t19"."__e" = "t6"."__re"
            ) AS "t20"
            WHERE
              TRUE
          ) AS "t21"
        ) AS "t22"
        WHERE
          "t22"."__rn" = 0
      ) AS "t23"
    ) AS "t24"
  ) AS "t25"
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
) AS "t26"
ORDER BY
  CAST("t26"."step" AS BIGINT) ASC
