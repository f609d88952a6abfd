SELECT
  *
FROM (
  SELECT
    `t1`.`__p` AS `month`,
    COUNT(DISTINCT `t1`.`worker_id`) AS `app_active_workers`
  FROM (
    SELECT
      `t0`.`worker_id`,
      `t0`.`ts`,
      `t0`.`ts` AS `__t`,
      TIMESTAMP_TRUNC(`t0`.`ts`, MONTH) AS `__p`
    FROM `events` AS `t0`
    WHERE
      `t0`.`ts` IS NOT NULL
  ) AS `t1`
  GROUP BY
    1
) AS `t2`
ORDER BY
  `t2`.`month` ASC NULLS LAST
