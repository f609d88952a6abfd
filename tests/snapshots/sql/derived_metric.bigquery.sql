SELECT
  `t8`.`quarter`,
  `t8`.`country`,
  ieee_divide(CAST(`t8`.`__m0` AS FLOAT64), NULLIF(CAST(`t8`.`__m1` AS FLOAT64), 0)) AS `revenue_per_active_worker`,
  ieee_divide(CAST(`t8`.`__m0` AS FLOAT64), NULLIF(CAST(`t8`.`__m2` AS FLOAT64), 0)) AS `hourly_rate`
FROM (
  SELECT
    `t6`.`__p` AS `quarter`,
    `t1`.`country` AS `country`,
    SUM(`t6`.`__m0`) AS `__m0`,
    COUNT(IF(`t6`.`__m1` > 0, `t6`.`worker_id`, NULL)) AS `__m1`,
    SUM(`t6`.`__m2`) AS `__m2`
  FROM (
    SELECT
      `t0`.`worker_id`,
      TIMESTAMP_TRUNC(`t0`.`completed_at`, QUARTER) AS `__p`,
      SUM(`t0`.`revenue`) AS `__m0`,
      COUNT(*) AS `__m1`,
      SUM(`t0`.`hours`) AS `__m2`
    FROM `assignments` AS `t0`
    WHERE
      `t0`.`completed_at` IS NOT NULL
    GROUP BY
      1,
      2
  ) AS `t6`
  LEFT OUTER JOIN `workers` AS `t1`
    ON `t6`.`worker_id` = `t1`.`worker_id`
  GROUP BY
    1,
    2
) AS `t8`
ORDER BY
  `t8`.`quarter` ASC NULLS LAST,
  `t8`.`country` ASC NULLS LAST
