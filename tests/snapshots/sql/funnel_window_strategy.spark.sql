WITH `t2` AS (
  SELECT
    `t1`.`worker_id` AS `__e`,
    UNIX_MICROS(`t1`.`ts`) AS `__t`,
    CAST(CASE
      WHEN `t1`.`event_type` = 'signup'
      THEN 1
      WHEN `t1`.`event_type` = 'profile_completed'
      THEN 2
      WHEN `t1`.`event_type` = 'application'
      THEN 3
      WHEN `t1`.`event_type` = 'task_accepted'
      THEN 4
      WHEN `t1`.`event_type` = 'task_completed'
      THEN 5
      ELSE 0
    END AS SMALLINT) AS `__k`
  FROM (
    SELECT
      *
    FROM `events` AS `t0`
    WHERE
      `t0`.`worker_id` IS NOT NULL
      AND `t0`.`ts` IS NOT NULL
      AND (
        (
          `t0`.`event_type` = 'signup'
        )
        OR (
          `t0`.`event_type` = 'profile_completed'
        )
        OR (
          `t0`.`event_type` = 'application'
        )
        OR (
          `t0`.`event_type` = 'task_accepted'
        )
        OR (
          `t0`.`event_type` = 'task_completed'
        )
      )
  ) AS `t1`
)
SELECT
  CAST(`t26`.`step` AS BIGINT) AS `step`,
  CASE
    WHEN CAST(`t26`.`step` AS BIGINT) = 1
    THEN 'signup'
    WHEN CAST(`t26`.`step` AS BIGINT) = 2
    THEN 'profile_completed'
    WHEN CAST(`t26`.`step` AS BIGINT) = 3
    THEN 'application'
    WHEN CAST(`t26`.`step` AS BIGINT) = 4
    THEN 'task_accepted'
    WHEN CAST(`t26`.`step` AS BIGINT) = 5
    THEN 'task_completed'
    ELSE CAST(NULL AS STRING)
  END AS `step_name`,
  CASE
    WHEN CAST(`t26`.`step` AS BIGINT) = 1
    THEN `t26`.`__n1`
    WHEN CAST(`t26`.`step` AS BIGINT) = 2
    THEN `t26`.`__n2`
    WHEN CAST(`t26`.`step` AS BIGINT) = 3
    THEN `t26`.`__n3`
    WHEN CAST(`t26`.`step` AS BIGINT) = 4
    THEN `t26`.`__n4`
    WHEN CAST(`t26`.`step` AS BIGINT) = 5
    THEN `t26`.`__n5`
    ELSE CAST(NULL AS BIGINT)
  END AS `entities`,
  CAST(CASE
    WHEN CAST(`t26`.`step` AS BIGINT) = 1
    THEN `t26`.`__n1`
    WHEN CAST(`t26`.`step` AS BIGINT) = 2
    THEN `t26`.`__n2`
    WHEN CAST(`t26`.`step` AS BIGINT) = 3
    THEN `t26`.`__n3`
    WHEN CAST(`t26`.`step` AS BIGINT) = 4
    THEN `t26`.`__n4`
    WHEN CAST(`t26`.`step` AS BIGINT) = 5
    THEN `t26`.`__n5`
    ELSE CAST(NULL AS BIGINT)
  END AS DOUBLE) / NULLIF(CAST(`t26`.`__n1` AS DOUBLE), 0) AS `conversion`,
  IF(
    CAST(`t26`.`step` AS BIGINT) = 1,
    1.0,
    CAST(CASE
      WHEN CAST(`t26`.`step` AS BIGINT) = 1
      THEN `t26`.`__n1`
      WHEN CAST(`t26`.`step` AS BIGINT) = 2
      THEN `t26`.`__n2`
      WHEN CAST(`t26`.`step` AS BIGINT) = 3
      THEN `t26`.`__n3`
      WHEN CAST(`t26`.`step` AS BIGINT) = 4
      THEN `t26`.`__n4`
      WHEN CAST(`t26`.`step` AS BIGINT) = 5
      THEN `t26`.`__n5`
      ELSE CAST(NULL AS BIGINT)
    END AS DOUBLE) / NULLIF(
      CASE
        WHEN CAST(`t26`.`step` AS BIGINT) = 1
        THEN CAST(`t26`.`__n1` AS DOUBLE)
        WHEN CAST(`t26`.`step` AS BIGINT) = 2
        THEN CAST(`t26`.`__n1` AS DOUBLE)
        WHEN CAST(`t26`.`step` AS BIGINT) = 3
        THEN CAST(`t26`.`__n2` AS DOUBLE)
        WHEN CAST(`t26`.`step` AS BIGINT) = 4
        THEN CAST(`t26`.`__n3` AS DOUBLE)
        WHEN CAST(`t26`.`step` AS BIGINT) = 5
        THEN CAST(`t26`.`__n4` AS DOUBLE)
        ELSE CAST(NULL AS DOUBLE)
      END,
      0
    )
  ) AS `step_conversion`,
  CASE
    WHEN CAST(`t26`.`step` AS BIGINT) = 2
    THEN `t26`.`__med2`
    WHEN CAST(`t26`.`step` AS BIGINT) = 3
    THEN `t26`.`__med3`
    WHEN CAST(`t26`.`step` AS BIGINT) = 4
    THEN `t26`.`__med4`
    WHEN CAST(`t26`.`step` AS BIGINT) = 5
    THEN `t26`.`__med5`
    ELSE CAST(NULL AS DOUBLE)
  END AS `median_seconds`,
  CASE
    WHEN CAST(`t26`.`step` AS BIGINT) = 2
    THEN `t26`.`__avg2`
    WHEN CAST(`t26`.`step` AS BIGINT) = 3
    THEN `t26`.`__avg3`
    WHEN CAST(`t26`.`step` AS BIGINT) = 4
    THEN `t26`.`__avg4`
    WHEN CAST(`t26`.`step` AS BIGINT) = 5
    THEN `t26`.`__avg5`
    ELSE CAST(NULL AS DOUBLE)
  END AS `avg_seconds`
FROM (
  SELECT
    `t25`.`__n1`,
    `t25`.`__n2`,
    `t25`.`__med2`,
    `t25`.`__avg2`,
    `t25`.`__n3`,
    `t25`.`__med3`,
    `t25`.`__avg3`,
    `t25`.`__n4`,
    `t25`.`__med4`,
    `t25`.`__avg4`,
    `t25`.`__n5`,
    `t25`.`__med5`,
    `t25`.`__avg5`,
    EXPLODE(ARRAY(1, 2, 3, 4, 5)) AS `step`
  FROM (
    SELECT
      COALESCE(SUM(CAST(`t23`.`__depth` >= 1 AS BIGINT)), 0) AS `__n1`,
      COALESCE(SUM(CAST(`t23`.`__depth` >= 2 AS BIGINT)), 0) AS `__n2`,
      PERCENTILE(CAST(`t23`.`__t2` - `t23`.`__t1` AS DOUBLE) / 1000000, 0.5) AS `__med2`,
      AVG(CAST(`t23`.`__t2` - `t23`.`__t1` AS DOUBLE) / 1000000) AS `__avg2`,
      COALESCE(SUM(CAST(`t23`.`__depth` >= 3 AS BIGINT)), 0) AS `__n3`,
      PERCENTILE(CAST(`t23`.`__t3` - `t23`.`__t2` AS DOUBLE) / 1000000, 0.5) AS `__med3`,
      AVG(CAST(`t23`.`__t3` - `t23`.`__t2` AS DOUBLE) / 1000000) AS `__avg3`,
      COALESCE(SUM(CAST(`t23`.`__depth` >= 4 AS BIGINT)), 0) AS `__n4`,
      PERCENTILE(CAST(`t23`.`__t4` - `t23`.`__t3` AS DOUBLE) / 1000000, 0.5) AS `__med4`,
      AVG(CAST(`t23`.`__t4` - `t23`.`__t3` AS DOUBLE) / 1000000) AS `__avg4`,
      COALESCE(SUM(CAST(`t23`.`__depth` >= 5 AS BIGINT)), 0) AS `__n5`,
      PERCENTILE(CAST(`t23`.`__t5` - `t23`.`__t4` AS DOUBLE) / 1000000, 0.5) AS `__med5`,
      AVG(CAST(`t23`.`__t5` - `t23`.`__t4` AS DOUBLE) / 1000000) AS `__avg5`
    FROM (
      SELECT
        *
      FROM (
        SELECT
          `t21`.`__e`,
          `t21`.`__t1`,
          `t21`.`__t2`,
          `t21`.`__t3`,
          `t21`.`__t4`,
          `t21`.`__t5`,
          `t21`.`__depth`,
          `t21`.`__clean`,
          ROW_NUMBER() OVER (
            PARTITION BY `t21`.`__e`
            ORDER BY `t21`.`__depth` DESC, COALESCE(`t21`.`__t5`, `t21`.`__t4`, `t21`.`__t3`, `t21`.`__t2`, `t21`.`__t1`) ASC NULLS LAST, `t21`.`__t1` DESC
          ) - 1 AS `__rn`
        FROM (
          SELECT
            `t20`.`__e`,
            `t20`.`__t1`,
            `t20`.`__t2`,
            `t20`.`__t3`,
            `t20`.`__t4`,
            IF(
              (
                `t20`.`__ct` - `t20`.`__t1`
              ) <= 2592000000000,
              `t20`.`__ct`,
              CAST(NULL AS BIGINT)
            ) AS `__t5`,
            1 + CAST(IF(`t20`.`__t2` IS NOT NULL, 1, 0) AS BIGINT) + CAST(IF(`t20`.`__t3` IS NOT NULL, 1, 0) AS BIGINT) + CAST(IF(`t20`.`__t4` IS NOT NULL, 1, 0) AS BIGINT) + CAST(IF(
              IF(
                (
                  `t20`.`__ct` - `t20`.`__t1`
                ) <= 2592000000000,
                `t20`.`__ct`,
                CAST(NULL AS BIGINT)
              ) IS NOT NULL,
              1,
              0
            ) AS BIGINT) AS `__depth`,
            TRUE AS `__clean`
          FROM (
            SELECT
              `t19`.`__e`,
              `t19`.`__t1`,
              `t19`.`__t2`,
              `t19`.`__t3`,
              `t19`.`__t4`,
              `t19`.`__mk`,
              `t19`.`__side`,
              IF(
                `t19`.`__mk` IS NULL,
                CAST(NULL AS BIGINT),
                MIN(`t19`.`__ct`) OVER (
                  PARTITION BY `t19`.`__e`
                  ORDER BY `t19`.`__mk` DESC, `t19`.`__side` DESC
                  ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
                )
              ) AS `__ct`
            FROM (
              SELECT
                *
              FROM (
                SELECT
                  `t17`.`__e`,
                  `t17`.`__t1`,
                  `t17`.`__t2`,
                  `t17`.`__t3`,
                  `t17`.`__t4`,
                  `t17`.`__t4` AS `__mk`,
                  0 AS `__side`,
                  CAST(NULL AS BIGINT) AS `__ct`
                FROM (
                  SELECT
                    `t16`.`__e`,
                    `t16`.`__t1`,
                    `t16`.`__t2`,
                    `t16`.`__t3`,
                    IF(
                      (
                        `t16`.`__ct` - `t16`.`__t1`
                      ) <= 2592000000000,
                      `t16`.`__ct`,
                      CAST(NULL AS BIGINT)
                    ) AS `__t4`
                  FROM (
                    SELECT
                      `t15`.`__e`,
                      `t15`.`__t1`,
                      `t15`.`__t2`,
                      `t15`.`__t3`,
                      `t15`.`__mk`,
                      `t15`.`__side`,
                      IF(
                        `t15`.`__mk` IS NULL,
                        CAST(NULL AS BIGINT),
                        MIN(`t15`.`__ct`) OVER (
                          PARTITION BY `t15`.`__e`
                          ORDER BY `t15`.`__mk` DESC, `t15`.`__side` DESC
                          ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
                        )
                      ) AS `__ct`
                    FROM (
                      SELECT
                        *
                      FROM (
                        SELECT
                          `t13`.`__e`,
                          `t13`.`__t1`,
                          `t13`.`__t2`,
                          `t13`.`__t3`,
                          `t13`.`__t3` AS `__mk`,
                          0 AS `__side`,
                          CAST(NULL AS BIGINT) AS `__ct`
                        FROM (
                          SELECT
                            `t12`.`__e`,
                            `t12`.`__t1`,
                            `t12`.`__t2`,
                            IF(
                              (
                                `t12`.`__ct` - `t12`.`__t1`
                              ) <= 2592000000000,
                              `t12`.`__ct`,
                              CAST(NULL AS BIGINT)
                            ) AS `__t3`
                          FROM (
                            SELECT
                              `t11`.`__e`,
                              `t11`.`__t1`,
                              `t11`.`__t2`,
                              `t11`.`__mk`,
                              `t11`.`__side`,
                              IF(
                                `t11`.`__mk` IS NULL,
                                CAST(NULL AS BIGINT),
                                MIN(`t11`.`__ct`) OVER (
                                  PARTITION BY `t11`.`__e`
                                  ORDER BY `t11`.`__mk` DESC, `t11`.`__side` DESC
                                  ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
                                )
                              ) AS `__ct`
                            FROM (
                              SELECT
                                *
                              FROM (
                                SELECT
                                  `t9`.`__e`,
                                  `t9`.`__t1`,
                                  `t9`.`__t2`,
                                  `t9`.`__t2` AS `__mk`,
                                  0 AS `__side`,
                                  CAST(NULL AS BIGINT) AS `__ct`
                                FROM (
                                  SELECT
                                    `t8`.`__e`,
                                    `t8`.`__t` AS `__t1`,
                                    IF(
                                      (
                                        `t8`.`__nk` = 2
                                      )
                                      AND (
                                        (
                                          `t8`.`__nt` - `t8`.`__t`
                                        ) <= 2592000000000
                                      ),
                                      `t8`.`__nt`,
                                      CAST(NULL AS BIGINT)
                                    ) AS `__t2`
                                  FROM (
                                    SELECT
                                      `t7`.`__e`,
                                      `t7`.`__t`,
                                      `t7`.`__k`,
                                      LEAD(`t7`.`__k`) OVER (
                                        PARTITION BY `t7`.`__e`
                                        ORDER BY `t7`.`__t` ASC NULLS LAST, `t7`.`__k` ASC NULLS LAST
                                      ) AS `__nk`,
                                      LEAD(`t7`.`__t`) OVER (
                                        PARTITION BY `t7`.`__e`
                                        ORDER BY `t7`.`__t` ASC NULLS LAST, `t7`.`__k` ASC NULLS LAST
                                      ) AS `__nt`
                                    FROM (
                                      SELECT
                                        *
                                      FROM `t2` AS `t3`
                                      WHERE
                                        (
                                          `t3`.`__k` = 1
                                        ) OR (
                                          `t3`.`__k` = 2
                                        )
                                    ) AS `t7`
                                  ) AS `t8`
                                  WHERE
                                    `t8`.`__k` = 1
                                    AND (
                                      (
                                        `t8`.`__nk` IS NULL
                                      ) OR (
                                        `t8`.`__nk` <> 1
                                      )
                                    )
                                ) AS `t9`
                              ) AS `t10`
                              UNION ALL
                              SELECT
                                *
                              FROM (
                                SELECT
                                  `t3`.`__e`,
                                  CAST(NULL AS BIGINT) AS `__t1`,
                                  CAST(NULL AS BIGINT) AS `__t2`,
                                  `t3`.`__t` AS `__mk`,
                                  1 AS `__side`,
                                  `t3`.`__t` AS `__ct`
                                FROM `t2` AS `t3`
                                WHERE
                                  `t3`.`__k` = 3
                              ) AS `t6`
                            ) AS `t11`
                          ) AS `t12`
                          WHERE
                            `t12`.`__side` = 0
                        ) AS `t13`
                      ) AS `t14`
                      UNION ALL
                      SELECT
                        *
                      FROM (
                        SELECT
                          `t3`.`__e`,
                          CAST(NULL AS BIGINT) AS `__t1`,
                          CAST(NULL AS BIGINT) AS `__t2`,
                          CAST(NULL AS BIGINT) AS `__t3`,
                          `t3`.`__t` AS `__mk`,
                          1 AS `__side`,
                          `t3`.`__t` AS `__ct`
                        FROM `t2` AS `t3`
                        WHERE
                          `t3`.`__k` = 4
                      ) AS `t5`
                    ) AS `t15`
                  ) AS `t16`
                  WHERE
                    `t16`.`__side` = 0
                ) AS `t17`
              ) AS `t18`
              UNION ALL
              SELECT
                *
              FROM (
                SELECT
                  `t3`.`__e`,
                  CAST(NULL AS BIGINT) AS `__t1`,
                  CAST(NULL AS BIGINT) AS `__t2`,
                  CAST(NULL AS BIGINT) AS `__t3`,
                  CAST(NULL AS BIGINT) AS `__t4`,
                  `t3`.`__t` AS `__mk`,
                  1 AS `__side`,
                  `t3`.`__t` AS `__ct`
                FROM `t2` AS `t3`
                WHERE
                  `t3`.`__k` = 5
              ) AS `t4`
            ) AS `t19`
          ) AS `t20`
          WHERE
            `t20`.`__side` = 0 AND TRUE
        ) AS `t21`
      ) AS `t22`
      WHERE
        `t22`.`__rn` = 0
    ) AS `t23`
  ) AS `t25`
) AS `t26`
ORDER BY
  CAST(`t26`.`step` AS BIGINT) ASC NULLS LAST
