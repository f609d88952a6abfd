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
  END AS DOUBLE PRECISION) / NULLIF(CAST("t29"."__n1" AS DOUBLE PRECISION), 0) AS "conversion",
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
  END AS DOUBLE PRECISION) / NULLIF(
    CASE
      WHEN CAST("t29"."step" AS BIGINT) = 1
      THEN CAST("t29"."__n1" AS DOUBLE PRECISION)
      WHEN CAST("t29"."step" AS BIGINT) = 2
      THEN CAST("t29"."__n1" AS DOUBLE PRECISION)
      WHEN CAST("t29"."step" AS BIGINT) = 3
      THEN CAST("t29"."__n2" AS DOUBLE PRECISION)
      WHEN CAST("t29"."step" AS BIGINT) = 4
      THEN CAST("t29"."__n3" AS DOUBLE PRECISION)
      WHEN CAST("t29"."step" AS BIGINT) = 5
      THEN CAST("t29"."__n4" AS DOUBLE PRECISION)
      ELSE CAST(NULL AS DOUBLE PRECISION)
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
    ELSE CAST(NULL AS DOUBLE PRECISION)
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
    ELSE CAST(NULL AS DOUBLE PRECISION)
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
    UNNEST(ARRAY[1, 2, 3, 4, 5]) AS "step"
  FROM (
    SELECT
      COALESCE(COUNT(*) FILTER(WHERE
        "t27"."__depth" >= 1), 0) AS "__n1",
      COALESCE(COUNT(*) FILTER(WHERE
        "t27"."__depth" >= 2), 0) AS "__n2",
      PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY
        CAST("t27"."__t2" - "t27"."__t1" AS DOUBLE PRECISION) / 1000000) AS "__med2",
      AVG(CAST("t27"."__t2" - "t27"."__t1" AS DOUBLE PRECISION) / 1000000) AS "__avg2",
      COALESCE(COUNT(*) FILTER(WHERE
        "t27"."__depth" >= 3), 0) AS "__n3",
      PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY
        CAST("t27"."__t3" - "t27"."__t2" AS DOUBLE PRECISION) / 1000000) AS "__med3",
      AVG(CAST("t27"."__t3" - "t27"."__t2" AS DOUBLE PRECISION) / 1000000) AS "__avg3",
      COALESCE(COUNT(*) FILTER(WHERE
        "t27"."__depth" >= 4), 0) AS "__n4",
      PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY
        CAST("t27"."__t4" - "t27"."__t3" AS DOUBLE PRECISION) / 1000000) AS "__med4",
      AVG(CAST("t27"."__t4" - "t27"."__t3" AS DOUBLE PRECISION) / 1000000) AS "__avg4",
      COALESCE(COUNT(*) FILTER(WHERE
        "t27"."__depth" >= 5), 0) AS "__n5",
      PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY
        CAST("t27"."__t5" - "t27"."__t4" AS DOUBLE PRECISION) / 1000000) AS "__med5",
      AVG(CAST("t27"."__t5" - "t27"."__t4" AS DOUBLE PRECISION) / 1000000) AS "__avg5"
    FROM (
      SELECT
        "t26"."__e",
        "t26"."__t1",
        "t26"."__t2",
        "t26"."__t3",
        "t26"."__t4",
        "t26"."__t5",
        "t26"."__depth",
        "t26"."__clean"
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
              ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING
            ) - 1 AS "__rn"
          FROM (
            SELECT
              "t23"."__e",
              "t23"."__t1",
              "t23"."__t2",
              "t23"."__t3",
              "t23"."__t4",
              "t23"."__t5",
              1 + CAST(CASE WHEN "t23"."__t2" IS NOT NULL THEN 1 ELSE 0 END AS BIGINT) + CAST(CASE WHEN "t23"."__t3" IS NOT NULL THEN 1 ELSE 0 END AS BIGINT) + CAST(CASE WHEN "t23"."__t4" IS NOT NULL THEN 1 ELSE 0 END AS BIGINT) + CAST(CASE WHEN "t23"."__t5" IS NOT NULL THEN 1 ELSE 0 END AS BIGINT) AS "__depth",
              TRUE AS "__clean"
            FROM (
              SELECT
                "t22"."__e",
                "t22"."__t1",
                "t22"."__t2",
                "t22"."__t3",
                "t22"."__t4",
                CASE
                  WHEN (
                    "t8"."__rk" - "t22"."__t1"
                  ) <= 2592000000000
                  THEN "t8"."__rk"
                  ELSE CAST(NULL AS BIGINT)
                END AS "__t5"
              FROM (
                SELECT
                  "t19"."__e",
                  "t19"."__t1",
                  "t19"."__t2",
                  "t19"."__t3",
                  CASE
                    WHEN (
                      "t9"."__rk" - "t19"."__t1"
                    ) <= 2592000000000
                    THEN "t9"."__rk"
                    ELSE CAST(NULL AS BIGINT)
                  END AS "__t4"
                FROM (
                  SELECT
                    "t16"."__e",
                    "t16"."__t1",
                    "t16"."__t2",
                    CASE
                      WHEN (
                        "t10"."__rk" - "t16"."__t1"
                      ) <= 2592000000000
                      THEN "t10"."__rk"
                      ELSE CAST(NULL AS BIGINT)
                    END AS "__t3"
                  FROM (
                    SELECT
                      "t13"."__e",
                      "t13"."__t1",
                      CASE
                        WHEN (
                          "t12"."__rk" - "t13"."__t1"
                        ) <= 2592000000000
                        THEN "t12"."__rk"
                        ELSE CAST(NULL AS BIGINT)
                      END AS "__t2"
                    FROM (
                      SELECT
                        "t2"."__e",
                        "t2"."__t" AS "__t1"
                      FROM "t1" AS "t2"
                      WHERE
                        "t2"."__k" = 1
                    ) AS "t13"
                    LEFT JOIN LATERAL (
                      SELECT
                        *
                      FROM (
                        SELECT
                          "t2"."__e" AS "__re",
                          "t2"."__t" AS "__rk"
                        FROM "t1" AS "t2"
                        WHERE
                          "t2"."__k" = 2
                      ) AS "t12"
                      WHERE
                        "t13"."__t1" <= "t12"."__rk" AND "t13"."__e" = "t12"."__re"
                      ORDER BY
                        "t12"."__rk" NULLS FIRST
                      LIMIT 1
                    ) AS t12
                      ON TRUE
                  ) AS "t16"
                  LEFT JOIN LATERAL (
                    SELECT
                      *
                    FROM (
                      SELECT
                        "t2"."__e" AS "__re",
                        "t2"."__t" AS "__rk"
                      FROM "t1" AS "t2"
                      WHERE
                        "t2"."__k" = 3
                    ) AS "t10"
                    WHERE
                      "t16"."__t2" <= "t10"."__rk" AND "t16"."__e" = "t10"."__re"
                    ORDER BY
                      "t10"."__rk" NULLS FIRST
                    LIMIT 1
                  ) AS t10
                    ON TRUE
                ) AS "t19"
                LEFT JOIN LATERAL (
                  SELECT
                    *
                  FROM (
                    SELECT
                      "t2"."__e" AS "__re",
                      "t2"."__t" AS "__rk"
                    FROM "t1" AS "t2"
                    WHERE
                      "t2"."__k" = 4
                  ) AS "t9"
                  WHERE
                    "t19"."__t3" <= "t9"."__rk" AND "t19"."__e" = "t9"."__re"
                  ORDER BY
                    "t9"."__rk" NULLS FIRST
                  LIMIT 1
                ) AS t9
                  ON TRUE
              ) AS "t22"
              LEFT JOIN LATERAL (
                SELECT
                  *
                FROM (
                  SELECT
                    "t2"."__e" AS "__re",
                    "t2"."__t" AS "__rk"
                  FROM "t1" AS "t2"
                  WHERE
                    "t2"."__k" = 5
                ) AS "t8"
                WHERE
                  "t22"."__t4" <= "t8"."__rk" AND "t22"."__e" = "t8"."__re"
                ORDER BY
                  "t8"."__rk" NULLS FIRST
                LIMIT 1
              ) AS t8
                ON TRUE
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
) AS "t29"
ORDER BY
  CAST("t29"."step" AS BIGINT) ASC
