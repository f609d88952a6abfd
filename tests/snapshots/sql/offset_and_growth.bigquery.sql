SELECT
  *
FROM (
  SELECT
    `t12`.`month`,
    MAX(`t12`.`__m0`) AS `revenue`,
    MAX(`t12`.`__o0`) AS `revenue_prev_month`,
    (
      CAST(MAX(`t12`.`__m0`) AS FLOAT64) / NULLIF(NULLIF(CAST(MAX(`t12`.`__o0`) AS FLOAT64), 0), 0)
    ) - 1 AS `revenue_mom`
  FROM (
    SELECT
      *
    FROM (
      SELECT
        `t4`.`month`,
        `t4`.`__m0`,
        CAST(NULL AS NUMERIC) AS `__o0`
      FROM (
        SELECT
          `t1`.`__p` AS `month`,
          SUM(`t1`.`revenue`) AS `__m0`
        FROM (
          SELECT
            `t0`.`completed_at`,
            `t0`.`revenue`,
            `t0`.`completed_at` AS `__t`,
            TIMESTAMP_TRUNC(`t0`.`completed_at`, MONTH) AS `__p`
          FROM `assignments` AS `t0`
          WHERE
            NOT `t0`.`completed_at` IS NULL
            AND `t0`.`completed_at` >= DATETIME(2024, 6, 1, 0, 0, 0.0)
            AND `t0`.`completed_at` < DATETIME(2025, 1, 1, 0, 0, 0.0)
        ) AS `t1`
        GROUP BY
          1
      ) AS `t4`
    ) AS `t8`
    UNION ALL
    SELECT
      *
    FROM (
      SELECT
        `t9`.`__P` AS `month`,
        CAST(NULL AS NUMERIC) AS `__m0`,
        `t6`.`revenue` AS `__o0`
      FROM (
        SELECT
          `t3`.`__P`,
          TIMESTAMP_TRUNC(`t3`.`__P` - INTERVAL '1' MONTH, MONTH) AS `__Q`
        FROM (
          SELECT
            IF(pos = pos_2, `__P`, NULL) AS `__P`
          FROM UNNEST(GENERATE_ARRAY(
            0,
            GREATEST(
              ARRAY_LENGTH(
                GENERATE_ARRAY(DATETIME(2024, 6, 1, 0, 0, 0.0), DATETIME(2025, 1, 1, 0, 0, 0.0), INTERVAL '1' MONTH)
              )
            ) - 1
          )) AS pos
          CROSS JOIN UNNEST(GENERATE_ARRAY(DATETIME(2024, 6, 1, 0, 0, 0.0), DATETIME(2025, 1, 1, 0, 0, 0.0), INTERVAL '1' MONTH)) AS `__P` WITH OFFSET AS pos_2
          WHERE
            pos = pos_2
            OR (
              pos > (
                ARRAY_LENGTH(
                  GENERATE_ARRAY(DATETIME(2024, 6, 1, 0, 0, 0.0), DATETIME(2025, 1, 1, 0, 0, 0.0), INTERVAL '1' MONTH)
                ) - 1
              )
              AND pos_2 = (
                ARRAY_LENGTH(
                  GENERATE_ARRAY(DATETIME(2024, 6, 1, 0, 0, 0.0), DATETIME(2025, 1, 1, 0, 0, 0.0), INTERVAL '1' MONTH)
                ) - 1
              )
            )
        ) AS `t3`
      ) AS `t9`
      INNER JOIN (
        SELECT
          `t2`.`__p` AS `month`,
          SUM(`t2`.`revenue`) AS `revenue`
        FROM (
          SELECT
            `t0`.`completed_at`,
            `t0`.`revenue`,
            `t0`.`completed_at` AS `__t`,
            TIMESTAMP_TRUNC(`t0`.`completed_at`, MONTH) AS `__p`
          FROM `assignments` AS `t0`
          WHERE
            NOT `t0`.`completed_at` IS NULL
            AND `t0`.`completed_at` >= DATETIME(2024, 5, 1, 0, 0, 0.0)
            AND `t0`.`completed_at` < DATETIME(2024, 12, 1, 0, 0, 0.0)
        ) AS `t2`
        GROUP BY
          1
      ) AS `t6`
        ON `t9`.`__Q` = `t6`.`month`
    ) AS `t11`
  ) AS `t12`
  GROUP BY
    1
) AS `t13`
ORDER BY
  `t13`.`month` ASC NULLS LAST
