SELECT
  *
FROM (
  SELECT
    `t3`.`__p` AS `month`,
    `t3`.`region`,
    ieee_divide(
      CAST(IF(
        COUNTIF(`t3`.`task_id` IN (
          SELECT
            `t1`.`task_id`
          FROM `assignments` AS `t1`
        )) > 0,
        COUNTIF(
          `t3`.`task_id` IN (
            SELECT
              `t1`.`task_id`
            FROM `assignments` AS `t1`
            WHERE
              `t1`.`accepted_at` IS NOT NULL
          )
        ),
        CAST(NULL AS INT64)
      ) AS FLOAT64),
      NULLIF(CAST(COUNT(*) AS FLOAT64), 0)
    ) AS `task_fill_rate`
  FROM (
    SELECT
      `t0`.`task_id`,
      `t0`.`region`,
      `t0`.`posted_at`,
      `t0`.`posted_at` AS `__t`,
      TIMESTAMP_TRUNC(`t0`.`posted_at`, MONTH) AS `__p`
    FROM `tasks` AS `t0`
    WHERE
      `t0`.`posted_at` IS NOT NULL
  ) AS `t3`
  GROUP BY
    1,
    2
) AS `t5`
ORDER BY
  `t5`.`month` ASC NULLS LAST,
  `t5`.`region` ASC NULLS LAST
