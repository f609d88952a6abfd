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
  CAST("t29"."step" AS BIGINT) AS "step",
  CASE
    WHEN CAST("t29"."step" AS BIGINT) = 1
    THEN 'signup'
    WHEN CAST("t29"."step" AS BIGINT) = 2
    THEN 'profile_completed'
    WHEN CAST("t29"."step" AS BIGINT) = 3
    THEN 'application'
    WHEN CAST("t29"."step" AS BIGINT) = 4
    THEN 'task_accepted'
    WHEN CAST("t29"."step" AS BIGINT) = 5
    THEN 'task_completed'
    ELSE CAST(NULL AS VARCHAR)
  END AS "step_name",
  CASE
    WHEN CAST("t29"."step" AS BIGINT) = 1
    THEN "t29"."__n1"
    WHEN CAST("t29"."step" AS BIGINT) = 2
    THEN "t29"."__n2"
    WHEN CAST("t29"."step" AS BIGINT) = 3
    THEN "t29"."__n3"
    WHEN CAST("t29"."step" AS BIGINT) = 4
    THEN "t29"."__n4"
    WHEN CAST("t29"."step" AS BIGINT) = 5
    THEN "t29"."__n5"
    ELSE CAST(NULL AS BIGINT)
  END AS "entities",
  CAST(CASE
    WHEN CAST("t29"."step" AS BIGINT) = 1
    THEN "t29"."__n1"
    WHEN CAST("t29"."step" AS BIGINT) = 2
    THEN "t29"."__n2"
    WHEN CAST("t29"."step" AS BIGINT) = 3
    THEN "t29"."__n3"
    WHEN CAST("t29"."step" AS BIGINT) = 4
    THEN "t29"."__n4"
    WHEN CAST("t29"."step" AS BIGINT) = 5
    THEN "t29"."__n5"
    ELSE CAST(NULL AS BIGINT)
  END AS DOUBLE) / NULLIF(CAST("t29"."__n1" AS DOUBLE), 0) AS "conversion",
  CAST(CASE
    WHEN CAST("t29"."step" AS BIGINT) = 1
    THEN "t29"."__n1"
    WHEN CAST("t29"."step" AS BIGINT) = 2
    THEN "t29"."__n2"
    WHEN CAST("t29"."step" AS BIGINT) = 3
    THEN "t29"."__n3"
    WHEN CAST("t29"."step" AS BIGINT) = 4
    THEN "t29"."__n4"
    WHEN CAST("t29"."step" AS BIGINT) = 5
    THEN "t29"."__n5"
    ELSE CAST(NULL AS BIGINT)
  END AS DOUBLE) / NULLIF(
    CASE
      WHEN CAST("t29"."step" AS BIGINT) = 1
      THEN CAST("t29"."__n1" AS DOUBLE)
      WHEN CAST("t29"."step" AS BIGINT) = 2
      THEN CAST("t29"."__n1" AS DOUBLE)
      WHEN CAST("t29"."step" AS BIGINT) = 3
      THEN CAST("t29"."__n2" AS DOUBLE)
      WHEN CAST("t29"."step" AS BIGINT) = 4
      THEN CAST("t29"."__n3" AS DOUBLE)
      WHEN CAST("t29"."step" AS BIGINT) = 5
      THEN CAST("t29"."__n4" AS DOUBLE)
      ELSE CAST(NULL AS DOUBLE)
    END,
    0
  ) AS "step_conversion",
  CASE
    WHEN CAST("t29"."step" AS BIGINT) = 2
    THEN "t29"."__med2"
    WHEN CAST("t29"."step" AS BIGINT) = 3
    THEN "t29"."__med3"
    WHEN CAST("t29"."step" AS BIGINT) = 4
    THEN "t29"."__med4"
    WHEN CAST("t29"."step" AS BIGINT) = 5
    THEN "t29"."__med5"
    ELSE CAST(NULL AS DOUBLE)
  END AS "median_seconds",
  CASE
    WHEN CAST("t29"."step" AS BIGINT) = 2
    THEN "t29"."__avg2"
    WHEN CAST("t29"."step" AS BIGINT) = 3
    THEN "t29"."__avg3"
    WHEN CAST("t29"."step" AS BIGINT) = 4
    THEN "t29"."__avg4"
    WHEN CAST("t29"."step" AS BIGINT) = 5
    THEN "t29"."__avg5"
    ELSE CAST(NULL AS DOUBLE)
  END AS "avg_seconds"
FROM (
  SELECT
    "t28"."__n1",
    "t28"."__n2",
    "t28"."__med2",
    "t28"."__avg2",
    "t28"."__n3",
    "t28"."__med3",
    "t28"."__avg3",
    "t28"."__n4",
    "t28"."__med4",
    "t28"."__avg4",
    "t28"."__n5",
    "t28"."__med5",
    "t28"."__avg5",
    CAST(NULLIF(IFF(_u.pos = _u_2.pos_2, _u_2."step", NULL), '') AS TINYINT) AS "step"
  FROM (
    SELECT
      COALESCE(COUNT_IF("t27"."__depth" >= 1), 0) AS "__n1",
      COALESCE(COUNT_IF("t27"."__depth" >= 2), 0) AS "__n2",
      MEDIAN(CAST("t27"."__t2" - "t27"."__t1" AS DOUBLE) / 1000000) AS "__med2",
      AVG(CAST("t27"."__t2" - "t27"."__t1" AS DOUBLE) / 1000000) AS "__avg2",
      COALESCE(COUNT_IF("t27"."__depth" >= 3), 0) AS "__n3",
      MEDIAN(CAST("t27"."__t3" - "t27"."__t2" AS DOUBLE) / 1000000) AS "__med3",
      AVG(CAST("t27"."__t3" - "t27"."__t2" AS DOUBLE) / 1000000) AS "__avg3",
      COALESCE(COUNT_IF("t27"."__depth" >= 4), 0) AS "__n4",
      MEDIAN(CAST("t27"."__t4" - "t27"."__t3" AS DOUBLE) / 1000000) AS "__med4",
      AVG(CAST("t27"."__t4" - "t27"."__t3" AS DOUBLE) / 1000000) AS "__avg4",
      COALESCE(COUNT_IF("t27"."__depth" >= 5), 0) AS "__n5",
      MEDIAN(CAST("t27"."__t5" - "t27"."__t4" AS DOUBLE) / 1000000) AS "__med5",
      AVG(CAST("t27"."__t5" - "t27"."__t4" AS DOUBLE) / 1000000) AS "__avg5"
    FROM (
      SELECT
        "t26".*
        EXCLUDE ("__rn")
      FROM (
        SELECT
          *
        FROM (
          SELECT
            "t24"."__e",
            "t24"."__t1",
            "t24"."__t2",
            "t24"."__t3",
            "t24"."__t4",
            "t24"."__t5",
            "t24"."__depth",
            "t24"."__clean",
            ROW_NUMBER() OVER (
              PARTITION BY "t24"."__e"
              ORDER BY "t24"."__depth" DESC NULLS LAST, COALESCE("t24"."__t5", "t24"."__t4", "t24"."__t3", "t24"."__t2", "t24"."__t1") ASC, "t24"."__t1" DESC NULLS LAST, "t24"."__t2" DESC NULLS LAST, "t24"."__t3" DESC NULLS LAST, "t24"."__t4" DESC NULLS LAST
            ) - 1 AS "__rn"
          FROM (
            SELECT
              "t23"."__e",
              "t23"."__t1",
              "t23"."__t2",
              "t23"."__t3",
              "t23"."__t4",
              "t23"."__t5",
              1 + CAST(IFF("t23"."__t2" IS NOT NULL, 1, 0) AS BIGINT) + CAST(IFF("t23"."__t3" IS NOT NULL, 1, 0) AS BIGINT) + CAST(IFF("t23"."__t4" IS NOT NULL, 1, 0) AS BIGINT) + CAST(IFF("t23"."__t5" IS NOT NULL, 1, 0) AS BIGINT) AS "__depth",
              TRUE AS "__clean"
            FROM (
              SELECT
                "t22"."__e",
                "t22"."__t1",
                "t22"."__t2",
                "t22"."__t3",
                "t22"."__t4",
                IFF((
                  "t8"."__rk" - "t22"."__t1"
                ) <= 2592000000000, "t8"."__rk", CAST(NULL AS BIGINT)) AS "__t5"
              FROM (
                SELECT
                  "t19"."__e",
                  "t19"."__t1",
                  "t19"."__t2",
                  "t19"."__t3",
                  IFF((
                    "t9"."__rk" - "t19"."__t1"
                  ) <= 2592000000000, "t9"."__rk", CAST(NULL AS BIGINT)) AS "__t4"
                FROM (
                  SELECT
                    "t16"."__e",
                    "t16"."__t1",
                    "t16"."__t2",
                    IFF(
                      (
                        "t10"."__rk" - "t16"."__t1"
                      ) <= 2592000000000,
                      "t10"."__rk",
                      CAST(NULL AS BIGINT)
                    ) AS "__t3"
                  FROM (
                    SELECT
                      "t13"."__e",
                      "t13"."__t1",
                      IFF(
                        (
                          "t12"."__rk" - "t13"."__t1"
                        ) <= 2592000000000,
                        "t12"."__rk",
                        CAST(NULL AS BIGINT)
                      ) AS "__t2"
                    FROM (
                      SELECT
                        "t2"."__e",
                        "t2"."__t" AS "__t1"
                      FROM "t1" AS "t2"
                      WHERE
                        "t2"."__k" = 1
                    ) AS "t13"
                    ASOF JOIN (
                      SELECT
                        "t2"."__e" AS "__re",
                        "t2"."__t" AS "__rk"
                      FROM "t1" AS "t2"
                      WHERE
                        "t2"."__k" = 2
                    ) AS "t12" MATCH_CONDITION ("t13"."__t1" <= "t12"."__rk")
                      ON "t13"."__e" = "t12"."__re"
                  ) AS "t16"
                  ASOF JOIN (
                    SELECT
                      "t2"."__e" AS "__re",
                      "t2"."__t" AS "__rk"
                    FROM "t1" AS "t2"
                    WHERE
                      "t2"."__k" = 3
                  ) AS "t10" MATCH_CONDITION ("t16"."__t2" <= "t10"."__rk")
                    ON "t16"."__e" = "t10"."__re"
                ) AS "t19"
                ASOF JOIN (
                  SELECT
                    "t2"."__e" AS "__re",
                    "t2"."__t" AS "__rk"
                  FROM "t1" AS "t2"
                  WHERE
                    "t2"."__k" = 4
                ) AS "t9" MATCH_CONDITION ("t19"."__t3" <= "t9"."__rk")
                  ON "t19"."__e" = "t9"."__re"
              ) AS "t22"
              ASOF JOIN (
                SELECT
                  "t2"."__e" AS "__re",
                  "t2"."__t" AS "__rk"
                FROM "t1" AS "t2"
                WHERE
                  "t2"."__k" = 5
              ) AS "t8" MATCH_CONDITION ("t22"."__t4" <= "t8"."__rk")
                ON "t22"."__e" = "t8"."__re"
            ) AS "t23"
            WHERE
              TRUE
          ) AS "t24"
        ) AS "t25"
        WHERE
          "t25"."__rn" = 0
      ) AS "t26"
    ) AS "t27"
  ) AS "t28"
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
) AS "t29"
ORDER BY
  CAST("t29"."step" AS BIGINT) ASC
