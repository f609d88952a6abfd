SELECT
  *
FROM (
  SELECT
    "t12"."month",
    MAX("t12"."__m0") AS "revenue",
    MAX("t12"."__o0") AS "revenue_prev_month",
    (
      CAST(MAX("t12"."__m0") AS DOUBLE) / NULLIF(CAST(MAX("t12"."__o0") AS DOUBLE), 0)
    ) - 1 AS "revenue_mom"
  FROM (
    SELECT
      *
    FROM (
      SELECT
        "t4"."month",
        "t4"."__m0",
        CAST(NULL AS DECIMAL(38, 2)) AS "__o0"
      FROM (
        SELECT
          "t1"."__p" AS "month",
          SUM("t1"."revenue") AS "__m0"
        FROM (
          SELECT
            "t0"."completed_at",
            "t0"."revenue",
            "t0"."completed_at" AS "__t",
            DATE_TRUNC('MONTH', "t0"."completed_at") AS "__p"
          FROM "assignments" AS "t0"
          WHERE
            "t0"."completed_at" IS NOT NULL
            AND "t0"."completed_at" >= TIMESTAMP_FROM_PARTS(2024, 6, 1, 0, 0, 0, 0)
            AND "t0"."completed_at" < TIMESTAMP_FROM_PARTS(2025, 1, 1, 0, 0, 0, 0)
        ) AS "t1"
        GROUP BY
          1
      ) AS "t4"
    ) AS "t8"
    UNION ALL
    SELECT
      *
    FROM (
      SELECT
        "t9"."__P" AS "month",
        CAST(NULL AS DECIMAL(38, 2)) AS "__m0",
        "t6"."revenue" AS "__o0"
      FROM (
        SELECT
          "t3"."__P",
          DATE_TRUNC('MONTH', DATEADD(MONTH, -'1', "t3"."__P")) AS "__Q"
        FROM (
          SELECT
            CAST(NULLIF(IFF(_u.pos = _u_2.pos_2, _u_2."__P", NULL), '') AS TIMESTAMP) AS "__P"
          FROM TABLE(FLATTEN(INPUT => ARRAY_GENERATE_RANGE(
            0,
            (
              GREATEST(
                ARRAY_SIZE(
                  SPLIT(
                    ARRAY_TO_STRING(
                      NULLIF(
                        (
                          SELECT
                            ARRAY_AGG(
                              REPLACE(
                                TO_CHAR(
                                  DATEADD(MONTH, value, TIMESTAMP_FROM_PARTS(2024, 6, 1, 0, 0, 0, 0)),
                                  'YYYY-MM-DD"T"HH24:MI:SS.FF6'
                                ),
                                'Z',
                                '+00:00'
                              )
                            )
                          FROM TABLE(FLATTEN(INPUT => ARRAY_GENERATE_RANGE(
                            0,
                            (
                              DATEDIFF(
                                MONTH,
                                TIMESTAMP_FROM_PARTS(2024, 6, 1, 0, 0, 0, 0),
                                TIMESTAMP_FROM_PARTS(2025, 1, 1, 0, 0, 0, 0)
                              ) - 1
                            ) + 1,
                            1
                          ))) AS _t0(seq, key, path, index, value, this)
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
                (
                  SELECT
                    ARRAY_AGG(
                      REPLACE(
                        TO_CHAR(
                          DATEADD(MONTH, value, TIMESTAMP_FROM_PARTS(2024, 6, 1, 0, 0, 0, 0)),
                          'YYYY-MM-DD"T"HH24:MI:SS.FF6'
                        ),
                        'Z',
                        '+00:00'
                      )
                    )
                  FROM TABLE(FLATTEN(INPUT => ARRAY_GENERATE_RANGE(
                    0,
                    (
                      DATEDIFF(
                        MONTH,
                        TIMESTAMP_FROM_PARTS(2024, 6, 1, 0, 0, 0, 0),
                        TIMESTAMP_FROM_PARTS(2025, 1, 1, 0, 0, 0, 0)
                      ) - 1
                    ) + 1,
                    1
                  ))) AS _t1(seq, key, path, index, value, this)
                ),
                []
              ),
              '<guid-g1>'
            ),
            '<guid-g1>'
          ))) AS _u_2(seq, key, path, pos_2, "__P", this)
          WHERE
            _u.pos = _u_2.pos_2
            OR (
              _u.pos > (
                ARRAY_SIZE(
                  SPLIT(
                    ARRAY_TO_STRING(
                      NULLIF(
                        (
                          SELECT
                            ARRAY_AGG(
                              REPLACE(
                                TO_CHAR(
                                  DATEADD(MONTH, value, TIMESTAMP_FROM_PARTS(2024, 6, 1, 0, 0, 0, 0)),
                                  'YYYY-MM-DD"T"HH24:MI:SS.FF6'
                                ),
                                'Z',
                                '+00:00'
                              )
                            )
                          FROM TABLE(FLATTEN(INPUT => ARRAY_GENERATE_RANGE(
                            0,
                            (
                              DATEDIFF(
                                MONTH,
                                TIMESTAMP_FROM_PARTS(2024, 6, 1, 0, 0, 0, 0),
                                TIMESTAMP_FROM_PARTS(2025, 1, 1, 0, 0, 0, 0)
                              ) - 1
                            ) + 1,
                            1
                          ))) AS _t2(seq, key, path, index, value, this)
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
                        (
                          SELECT
                            ARRAY_AGG(
                              REPLACE(
                                TO_CHAR(
                                  DATEADD(MONTH, value, TIMESTAMP_FROM_PARTS(2024, 6, 1, 0, 0, 0, 0)),
                                  'YYYY-MM-DD"T"HH24:MI:SS.FF6'
                                ),
                                'Z',
                                '+00:00'
                              )
                            )
                          FROM TABLE(FLATTEN(INPUT => ARRAY_GENERATE_RANGE(
                            0,
                            (
                              DATEDIFF(
                                MONTH,
                                TIMESTAMP_FROM_PARTS(2024, 6, 1, 0, 0, 0, 0),
                                TIMESTAMP_FROM_PARTS(2025, 1, 1, 0, 0, 0, 0)
                              ) - 1
                            ) + 1,
                            1
                          ))) AS _t3(seq, key, path, index, value, this)
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
        ) AS "t3"
      ) AS "t9"
      INNER JOIN (
        SELECT
          "t2"."__p" AS "month",
          SUM("t2"."revenue") AS "revenue"
        FROM (
          SELECT
            "t0"."completed_at",
            "t0"."revenue",
            "t0"."completed_at" AS "__t",
            DATE_TRUNC('MONTH', "t0"."completed_at") AS "__p"
          FROM "assignments" AS "t0"
          WHERE
            "t0"."completed_at" IS NOT NULL
            AND "t0"."completed_at" >= TIMESTAMP_FROM_PARTS(2024, 5, 1, 0, 0, 0, 0)
            AND "t0"."completed_at" < TIMESTAMP_FROM_PARTS(2024, 12, 1, 0, 0, 0, 0)
        ) AS "t2"
        GROUP BY
          1
      ) AS "t6"
        ON "t9"."__Q" = "t6"."month"
    ) AS "t11"
  ) AS "t12"
  GROUP BY
    1
) AS "t13"
ORDER BY
  "t13"."month" ASC
