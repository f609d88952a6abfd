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
  END AS DOUBLE PRECISION) / NULLIF(CAST("t26"."__n1" AS DOUBLE PRECISION), 0) AS "conversion",
  CASE
    WHEN CAST("t26"."step" AS BIGINT) = 1
    THEN 1.0
    ELSE CAST(CASE
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
    END AS DOUBLE PRECISION) / NULLIF(
      CASE
        WHEN CAST("t26"."step" AS BIGINT) = 1
        THEN CAST("t26"."__n1" AS DOUBLE PRECISION)
        WHEN CAST("t26"."step" AS BIGINT) = 2
        THEN CAST("t26"."__n1" AS DOUBLE PRECISION)
        WHEN CAST("t26"."step" AS BIGINT) = 3
        THEN CAST("t26"."__n2" AS DOUBLE PRECISION)
        WHEN CAST("t26"."step" AS BIGINT) = 4
        THEN CAST("t26"."__n3" AS DOUBLE PRECISION)
        WHEN CAST("t26"."step" AS BIGINT) = 5
        THEN CAST("t26"."__n4" AS DOUBLE PRECISION)
        ELSE CAST(NULL AS DOUBLE PRECISION)
      END,
      0
    )
  END AS "step_conversion",
  CASE
    WHEN CAST("t26"."step" AS BIGINT) = 2
    THEN "t26"."__med2"
    WHEN CAST("t26"."step" AS BIGINT) = 3
    THEN "t26"."__med3"
    WHEN CAST("t26"."step" AS BIGINT) = 4
    THEN "t26"."__med4"
    WHEN CAST("t26"."step" AS BIGINT) = 5
    THEN "t26"."__med5"
    ELSE CAST(NULL AS DOUBLE PRECISION)
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
    ELSE CAST(NULL AS DOUBLE PRECISION)
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
    UNNEST(ARRAY[1, 2, 3, 4, 5]) AS "step"
  FROM (
    SELECT
      COALESCE(COUNT(*) FILTER(WHERE
        "t23"."__depth" >= 1), 0) AS "__n1",
      COALESCE(COUNT(*) FILTER(WHERE
        "t23"."__depth" >= 2), 0) AS "__n2",
      PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY
        CAST("t23"."__t2" - "t23"."__t1" AS DOUBLE PRECISION) / 1000000) AS "__med2",
      AVG(CAST("t23"."__t2" - "t23"."__t1" AS DOUBLE PRECISION) / 1000000) AS "__avg2",
      COALESCE(COUNT(*) FILTER(WHERE
        "t23"."__depth" >= 3), 0) AS "__n3",
      PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY
        CAST("t23"."__t3" - "t23"."__t2" AS DOUBLE PRECISION) / 1000000) AS "__med3",
      AVG(CAST("t23"."__t3" - "t23"."__t2" AS DOUBLE PRECISION) / 1000000) AS "__avg3",
      COALESCE(COUNT(*) FILTER(WHERE
        "t23"."__depth" >= 4), 0) AS "__n4",
      PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY
        CAST("t23"."__t4" - "t23"."__t3" AS DOUBLE PRECISION) / 1000000) AS "__med4",
      AVG(CAST("t23"."__t4" - "t23"."__t3" AS DOUBLE PRECISION) / 1000000) AS "__avg4",
      COALESCE(COUNT(*) FILTER(WHERE
        "t23"."__depth" >= 5), 0) AS "__n5",
      PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY
        CAST("t23"."__t5" - "t23"."__t4" AS DOUBLE PRECISION) / 1000000) AS "__med5",
      AVG(CAST("t23"."__t5" - "t23"."__t4" AS DOUBLE PRECISION) / 1000000) AS "__avg5"
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
            ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING
          ) - 1 AS "__rn"
        FROM (
          SELECT
            "t20"."__e",
            "t20"."__t1",
            "t20"."__t2",
            "t20"."__t3",
            "t20"."__t4",
            "t20"."__t5",
            1 + CAST(CASE WHEN "t20"."__t2" IS NOT NULL THEN 1 ELSE 0 END AS BIGINT) + CAST(CASE WHEN "t20"."__t3" IS NOT NULL THEN 1 ELSE 0 END AS BIGINT) + CAST(CASE WHEN "t20"."__t4" IS NOT NULL THEN 1 ELSE 0 END AS BIGINT) + CAST(CASE WHEN "t20"."__t5" IS NOT NULL THEN 1 ELSE 0 END AS BIGINT) AS "__depth",
            TRUE AS "__clean"
          FROM (
            SELECT
              "t19"."__e",
              "t19"."__t1",
              "t19"."__t2",
              "t19"."__t3",
              "t19"."__t4",
              CASE
                WHEN (
                  "t6"."__rk" - "t19"."__t1"
                ) <= 2592000000000
                THEN "t6"."__rk"
                ELSE CAST(NULL AS BIGINT)
              END AS "__t5"
            FROM (
              SELECT
                "t16"."__e",
                "t16"."__t1",
                "t16"."__t2",
                "t16"."__t3",
                CASE
                  WHEN (
                    "t7"."__rk" - "t16"."__t1"
                  ) <= 2592000000000
                  THEN "t7"."__rk"
                  ELSE CAST(NULL AS BIGINT)
                END AS "__t4"
              FROM (
                SELECT
                  "t13"."__e",
                  "t13"."__t1",
                  "t13"."__t2",
                  CASE
                    WHEN (
                      "t8"."__rk" - "t13"."__t1"
                    ) <= 2592000000000
                    THEN "t8"."__rk"
                    ELSE CAST(NULL AS BIGINT)
                  END AS "__t3"
                FROM (
                  SELECT
                    "t10"."__e",
                    "t10"."__t" AS "__t1",
                    CASE
                      WHEN (
                        "t10"."__nk" = 2
                      )
                      AND (
                        (
                          "t10"."__nt" - "t10"."__t"
                        ) <= 2592000000000
                      )
                      THEN "t10"."__nt"
                      ELSE CAST(NULL AS BIGINT)
                    END AS "__t2"
                  FROM (
                    SELECT
                      "t9"."__e",
                      "t9"."__t",
                      "t9"."__k",
                      LEAD("t9"."__k") OVER (
                        PARTITION BY "t9"."__e"
                        ORDER BY "t9"."__t" ASC, "t9"."__k" ASC
                        ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING
                      ) AS "__nk",
                      LEAD("t9"."__t") OVER (
                        PARTITION BY "t9"."__e"
                        ORDER BY "t9"."__t" ASC, "t9"."__k" ASC
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
                  ) AS "t8"
                  WHERE
                    "t13"."__t2" <= "t8"."__rk" AND "t13"."__e" = "t8"."__re"
                  ORDER BY
                    "t8"."__rk" NULLS FIRST
                  LIMIT 1
                ) AS t8
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
                    "t2"."__k" = 4
                ) AS "t7"
                WHERE
                  "t16"."__t3" <= "t7"."__rk" AND "t16"."__e" = "t7"."__re"
                ORDER BY
                  "t7"."__rk" NULLS FIRST
                LIMIT 1
              ) AS t7
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
                  "t2"."__k" = 5
              ) AS "t6"
              WHERE
                "t19"."__t4" <= "t6"."__rk" AND "t19"."__e" = "t6"."__re"
              ORDER BY
                "t6"."__rk" NULLS FIRST
              LIMIT 1
            ) AS t6
              ON TRUE
          ) AS "t20"
          WHERE
            TRUE
        ) AS "t21"
      ) AS "t22"
      WHERE
        "t22"."__rn" = 0
    ) AS "t23"
  ) AS "t25"
) AS "t26"
ORDER BY
  CAST("t26"."step" AS BIGINT) ASC
