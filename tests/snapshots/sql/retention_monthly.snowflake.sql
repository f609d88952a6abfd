WITH "t1" AS (
  SELECT
    "t0"."worker_id" AS "__e",
    "t0"."ts" AS "__t"
  FROM "events" AS "t0"
  WHERE
    "t0"."worker_id" IS NOT NULL AND "t0"."event_type" = 'task_completed'
), "t7" AS (
  SELECT
    "t3"."__e",
    "t3"."__entry",
    (
      (
        CAST(DATE_PART(year, "t3"."__entry") AS BIGINT) * 12
      ) + CAST(DATE_PART(month, "t3"."__entry") AS BIGINT)
    ) - 1 AS "__ci"
  FROM (
    SELECT
      "t2"."__e",
      MIN("t2"."__t") AS "__entry"
    FROM "t1" AS "t2"
    GROUP BY
      1
  ) AS "t3"
)
SELECT
  *
FROM (
  SELECT
    "t19"."cohort",
    "t19"."cohort_size",
    "t19"."__k" AS "period",
    COALESCE("t17"."__n", 0) AS "active",
    CAST(COALESCE("t17"."__n", 0) AS DOUBLE) / CAST("t19"."cohort_size" AS DOUBLE) AS "retention",
    (
      "t19"."__ci" + "t19"."__k"
    ) < "t19"."__last" AS "complete"
  FROM (
    SELECT
      "t13"."__ci",
      "t13"."cohort",
      "t13"."cohort_size",
      "t6"."__last",
      CAST(NULLIF(IFF(_u.pos = _u_2.pos_2, _u_2."__k", NULL), '') AS BIGINT) AS "__k"
    FROM (
      SELECT
        "t9"."__ci",
        MIN(DATE_TRUNC('MONTH', "t9"."__entry")) AS "cohort",
        COUNT(*) AS "cohort_size"
      FROM "t7" AS "t9"
      GROUP BY
        1
    ) AS "t13"
    CROSS JOIN (
      SELECT
        (
          (
            CAST(DATE_PART(year, MAX("t0"."ts")) AS BIGINT) * 12
          ) + CAST(DATE_PART(month, MAX("t0"."ts")) AS BIGINT)
        ) - 1 AS "__last"
      FROM "events" AS "t0"
    ) AS "t6"
    CROSS JOIN TABLE(FLATTEN(INPUT => ARRAY_GENERATE_RANGE(
      0,
      (
        GREATEST(
          ARRAY_SIZE(
            SPLIT(
              ARRAY_TO_STRING(
                NULLIF(
                  IFF(
                    1 <> 0,
                    ARRAY_GENERATE_RANGE(0, (
                      LEAST((
                        "t6"."__last" - "t13"."__ci"
                      ) + 1, 6) - 1
                    ) + 1, 1),
                    []
                  ),
                  []
                ),
                '<guid-g1>'
              ),
              '<guid-g1>'
            )
          )
        ) - 1
      ) + 1
    ))) AS _u(seq, key, path, index, pos, this)
    CROSS JOIN TABLE(FLATTEN(INPUT => SPLIT(
      ARRAY_TO_STRING(
        NULLIF(
          IFF(
            1 <> 0,
            ARRAY_GENERATE_RANGE(0, (
              LEAST((
                "t6"."__last" - "t13"."__ci"
              ) + 1, 6) - 1
            ) + 1, 1),
            []
          ),
          []
        ),
        '<guid-g1>'
      ),
      '<guid-g1>'
    ))) AS _u_2(seq, key, path, pos_2, "__k", this)
    WHERE
      _u.pos = _u_2.pos_2
      OR (
        _u.pos > (
          ARRAY_SIZE(
            SPLIT(
              ARRAY_TO_STRING(
                NULLIF(
                  IFF(
                    1 <> 0,
                    ARRAY_GENERATE_RANGE(0, (
                      LEAST((
                        "t6"."__last" - "t13"."__ci"
                      ) + 1, 6) - 1
                    ) + 1, 1),
                    []
                  ),
                  []
                ),
                '<guid-g1>'
              ),
              '<guid-g1>'
            )
          ) - 1
        )
        AND _u_2.pos_2 = (
          ARRAY_SIZE(
            SPLIT(
              ARRAY_TO_STRING(
                NULLIF(
                  IFF(
                    1 <> 0,
                    ARRAY_GENERATE_RANGE(0, (
                      LEAST((
                        "t6"."__last" - "t13"."__ci"
                      ) + 1, 6) - 1
                    ) + 1, 1),
                    []
                  ),
                  []
                ),
                '<guid-g1>'
              ),
              '<guid-g1>'
            )
          ) - 1
        )
      )
  ) AS "t19"
  LEFT OUTER JOIN (
    SELECT
      "t14"."__ci",
      "t14"."__k",
      COUNT(*) AS "__n"
    FROM (
      SELECT
        "t11"."__e",
        "t11"."__ci",
        "t10"."__ai" - "t11"."__ci" AS "__k"
      FROM "t7" AS "t11"
      INNER JOIN (
        SELECT
          "t4"."__e" AS "__ae",
          (
            (
              CAST(DATE_PART(year, "t4"."__p") AS BIGINT) * 12
            ) + CAST(DATE_PART(month, "t4"."__p") AS BIGINT)
          ) - 1 AS "__ai",
          "t4"."__last" AS "__al"
        FROM (
          SELECT
            "t2"."__e",
            DATE_TRUNC('MONTH', "t2"."__t") AS "__p",
            MAX("t2"."__t") AS "__last"
          FROM "t1" AS "t2"
          GROUP BY
            1,
            2
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
      1,
      2
  ) AS "t17"
    ON "t19"."__ci" = "t17"."__ci" AND "t19"."__k" = "t17"."__k"
) AS "t20"
ORDER BY
  "t20"."cohort" ASC,
  "t20"."period" ASC
