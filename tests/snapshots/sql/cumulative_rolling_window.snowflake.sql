SELECT
  *
FROM (
  SELECT
    "t4"."__p" AS "week",
    COUNT(DISTINCT IFF("t3"."completed_at" IS NOT NULL, "t3"."worker_id", NULL)) AS "active_workers_28d"
  FROM (
    SELECT
      "t0"."worker_id",
      "t0"."completed_at",
      "t0"."completed_at" AS "__t"
    FROM "assignments" AS "t0"
    WHERE
      "t0"."completed_at" IS NOT NULL
      AND "t0"."completed_at" < TIMESTAMP_FROM_PARTS(2024, 6, 3, 0, 0, 0, 0)
  ) AS "t3"
  INNER JOIN (
    SELECT
      CAST(NULLIF(IFF(_u.pos = _u_2.pos_2, _u_2."__p", NULL), '') AS TIMESTAMP) AS "__p"
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
                            DATEADD(DAY, value, TIMESTAMP_FROM_PARTS(2024, 3, 4, 0, 0, 0, 0)),
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
                          DAY,
                          TIMESTAMP_FROM_PARTS(2024, 3, 4, 0, 0, 0, 0),
                          TIMESTAMP_FROM_PARTS(2024, 6, 3, 0, 0, 0, 0)
                        ) - 1
                      ) + 1,
                      7
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
                    DATEADD(DAY, value, TIMESTAMP_FROM_PARTS(2024, 3, 4, 0, 0, 0, 0)),
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
                  DAY,
                  TIMESTAMP_FROM_PARTS(2024, 3, 4, 0, 0, 0, 0),
                  TIMESTAMP_FROM_PARTS(2024, 6, 3, 0, 0, 0, 0)
                ) - 1
              ) + 1,
              7
            ))) AS _t1(seq, key, path, index, value, this)
          ),
          []
        ),
        '<guid-g1>'
      ),
      '<guid-g1>'
    ))) AS _u_2(seq, key, path, pos_2, "__p", this)
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
                            DATEADD(DAY, value, TIMESTAMP_FROM_PARTS(2024, 3, 4, 0, 0, 0, 0)),
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
                          DAY,
                          TIMESTAMP_FROM_PARTS(2024, 3, 4, 0, 0, 0, 0),
                          TIMESTAMP_FROM_PARTS(2024, 6, 3, 0, 0, 0, 0)
                        ) - 1
                      ) + 1,
                      7
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
                            DATEADD(DAY, value, TIMESTAMP_FROM_PARTS(2024, 3, 4, 0, 0, 0, 0)),
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
                          DAY,
                          TIMESTAMP_FROM_PARTS(2024, 3, 4, 0, 0, 0, 0),
                          TIMESTAMP_FROM_PARTS(2024, 6, 3, 0, 0, 0, 0)
                        ) - 1
                      ) + 1,
                      7
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
  ) AS "t4"
    ON "t3"."__t" < DATEADD(DAY, '7', "t4"."__p")
    AND "t3"."__t" >= DATEADD(DAY, -'28', DATEADD(DAY, '7', "t4"."__p"))
  GROUP BY
    1
) AS "t6"
ORDER BY
  "t6"."week" ASC
