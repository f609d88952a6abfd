SELECT
  `t13`.`quarter`,
  `t13`.`country`,
  `t13`.`__m0` AS `revenue`,
  CAST(`t13`.`__m0` AS DOUBLE) / NULLIF(CAST(`t13`.`__s0` AS DOUBLE), 0) AS `revenue_share`
FROM (
  SELECT
    `t12`.`quarter`,
    `t12`.`country`,
    `t12`.`__m0`,
    `t10`.`__den` AS `__s0`
  FROM (
    SELECT
      `t9`.`__p` AS `quarter`,
      `t9`.`__j0_f0` AS `country`,
      SUM(IF(NOT (
        `t9`.`completed_at` IS NULL
      ), `t9`.`revenue`, NULL)) AS `__m0`
    FROM (
      SELECT
        `t6`.`assignment_id`,
        `t6`.`task_id`,
        `t6`.`worker_id`,
        `t6`.`accepted_at`,
        `t6`.`completed_at`,
        `t6`.`hours`,
        `t6`.`revenue`,
        `t6`.`__j0_f0`,
        `t6`.`completed_at` AS `__t`,
        DATE_TRUNC('quarter', `t6`.`completed_at`) AS `__p`
      FROM (
        SELECT
          `t2`.`assignment_id`,
          `t2`.`task_id`,
          `t2`.`worker_id`,
          `t2`.`accepted_at`,
          `t2`.`completed_at`,
          `t2`.`hours`,
          `t2`.`revenue`,
          `t5`.`__j0_f0`
        FROM `assignments` AS `t2`
        LEFT OUTER JOIN (
          SELECT
            `t1`.`worker_id` AS `__j0_k0`,
            `t1`.`country` AS `__j0_f0`
          FROM `workers` AS `t1`
        ) AS `t5`
          ON `t2`.`worker_id` = `t5`.`__j0_k0`
      ) AS `t6`
      WHERE
        `t6`.`completed_at` IS NOT NULL
    ) AS `t9`
    GROUP BY
      1,
      2
  ) AS `t12`
  LEFT OUTER JOIN (
    SELECT
      `t7`.`quarter` AS `__skg`,
      `t7`.`__m0` AS `__den`
    FROM (
      SELECT
        `t4`.`__p` AS `quarter`,
        SUM(IF(NOT (
          `t4`.`completed_at` IS NULL
        ), `t4`.`revenue`, NULL)) AS `__m0`
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
          DATE_TRUNC('quarter', `t0`.`completed_at`) AS `__p`
        FROM `assignments` AS `t0`
        WHERE
          `t0`.`completed_at` IS NOT NULL
      ) AS `t4`
      GROUP BY
        1
    ) AS `t7`
  ) AS `t10`
    ON `t12`.`quarter` = `t10`.`__skg`
) AS `t13`
ORDER BY
  `t13`.`quarter` ASC NULLS LAST,
  `t13`.`country` ASC NULLS LAST
