SELECT
  *
FROM (
  SELECT
    `t6`.`__p` AS `month`,
    SUM(`t6`.`revenue`) AS `revenue`,
    SUM(`t6`.`hours`) AS `hours`
  FROM (
    SELECT
      `t2`.`completed_at`,
      `t2`.`hours`,
      `t2`.`revenue`,
      `t1`.`country` AS `__j0_f0`,
      `t2`.`completed_at` AS `__t`,
      TIMESTAMP_TRUNC(`t2`.`completed_at`, MONTH) AS `__p`
    FROM `assignments` AS `t2`
    LEFT OUTER JOIN `workers` AS `t1`
      ON `t2`.`worker_id` = `t1`.`worker_id`
    WHERE
      `t1`.`country` = 'US'
      AND `t2`.`completed_at` IS NOT NULL
      AND `t2`.`completed_at` >= DATETIME('2024-04-01T00:00:00')
      AND `t2`.`completed_at` < DATETIME('2025-01-01T00:00:00')
  ) AS `t6`
  GROUP BY
    1
) AS `t7`
ORDER BY
  `t7`.`month` ASC NULLS LAST
