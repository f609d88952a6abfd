SELECT
  `t14`.`month`,
  `t14`.`__m0` AS `revenue`,
  `t14`.`__o0` AS `revenue_prev_month`,
  (
    CAST(`t14`.`__m0` AS FLOAT64) / NULLIF(NULLIF(CAST(`t14`.`__o0` AS FLOAT64), 0), 0)
  ) - 1 AS `revenue_mom`
FROM (
  SELECT
    `t13`.`month`,
    MAX(`t13`.`__m0`) AS `__m0`,
    MAX(`t13`.`__o0`) AS `__o0`
  FROM (
    SELECT
      *
    FROM (
      SELECT
        `t5`.`month`,
        `t5`.`__m0`,
        CAST(NULL AS NUMERIC) AS `__o0`
      FROM (
        SELECT
          `t1`.`__p` AS `month`,
          SUM(`t1`.`revenue`) FILTER(WHERE
            NOT (
              `t1`.`completed_at` IS NULL
            )) AS `__m0`
        FROM (
          SELECT
            `t0`.`assignment_id`,
            `t0`.`task_id`,
            `t0`.`worker_id`,
            `t0`.`accepted_at`,
            `t0`.`completed_at`,
            `t0`.`hours`,
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
      ) AS `t5`
    ) AS `t8`
    UNION ALL
    SELECT
      *
    FROM (
      SELECT
        `t11`.`month`,
        CAST(NULL AS NUMERIC) AS `__m0`,
        `t11`.`__o0`
      FROM (
        SELECT
          `t7`.`__P` AS `month`,
          `t10`.`revenue` AS `__o0`
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
        ) AS `t7`
        INNER JOIN (
          SELECT
            `t6`.`month`,
            `t6`.`__m0` AS `revenue`
          FROM (
            SELECT
              `t2`.`__p` AS `month`,
              SUM(`t2`.`revenue`) FILTER(WHERE
                NOT (
                  `t2`.`completed_at` IS NULL
                )) AS `__m0`
            FROM (
              SELECT
                `t0`.`assignment_id`,
                `t0`.`task_id`,
                `t0`.`worker_id`,
                `t0`.`accepted_at`,
                `t0`.`completed_at`,
                `t0`.`hours`,
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
        ) AS `t10`
          ON `t7`.`__Q` = `t10`.`month`
      ) AS `t11`
    ) AS `t12`
  ) AS `t13`
  GROUP BY
    1
) AS `t14`
ORDER BY
  `t14`.`month` ASC NULLS LAST
