SELECT
  `t3`.`day`,
  `t3`.`__m0` AS `app_active_workers`
FROM (
  SELECT
    `t2`.`__p` AS `day`,
    COUNT(DISTINCT `t2`.`worker_id`) AS `__m0`
  FROM (
    SELECT
      `t1`.`event_id`,
      `t1`.`worker_id`,
      `t1`.`event_type`,
      `t1`.`ts`,
      `t1`.`platform`,
      `t1`.`task_id`,
      `t1`.`__t`,
      DATE_TRUNC('day', `t1`.`__t`) AS `__p`
    FROM (
      SELECT
        `t0`.`event_id`,
        `t0`.`worker_id`,
        `t0`.`event_type`,
        `t0`.`ts`,
        `t0`.`platform`,
        `t0`.`task_id`,
        FROM_UTC_TIMESTAMP(CAST(`t0`.`ts` AS TIMESTAMP), 'America/New_York') AS `__t`
      FROM `events` AS `t0`
    ) AS `t1`
    WHERE
      `t1`.`__t` IS NOT NULL
      AND `t1`.`__t` >= CAST('2024-03-08T00:00:00' AS TIMESTAMP)
      AND `t1`.`__t` < CAST('2024-03-12T00:00:00' AS TIMESTAMP)
  ) AS `t2`
  GROUP BY
    1
) AS `t3`
ORDER BY
  `t3`.`day` ASC NULLS LAST
