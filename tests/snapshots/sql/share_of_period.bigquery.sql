SELECT
  `t13`.`quarter`,
  `t13`.`country`,
  `t13`.`__m0` AS `revenue`,
  ieee_divide(CAST(`t13`.`__m0` AS FLOAT64), NULLIF(CAST(`t13`.`__s0` AS FLOAT64), 0)) AS `revenue_share`
FROM (
  SELECT
    `t12`.`quarter`,
    `t12`.`country`,
    `t12`.`__m0`,
    `t9`.`__den` AS `__s0`
  FROM (
    SELECT
      `t10`.`__p` AS `quarter`,
      `t10`.`__j0_f0` AS `country`,
      SUM(`t10`.`revenue`) AS `__m0`
    FROM (
      SELECT
        `t7`.`completed_at`,
        `t7`.`revenue`,
        `t7`.`__j0_f0`,
        `t7`.`completed_at` AS `__t`,
        TIMESTAMP_TRUNC(`t7`.`completed_at`, QUARTER) AS `__p`
      FROM (
        SELECT
          `t2`.`completed_at`,
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
      ) AS `t7`
      WHERE
        `t7`.`completed_at` IS NOT NULL
    ) AS `t10`
    GROUP BY
      1,
      2
  ) AS `t12`
  LEFT OUTER JOIN (
    SELECT
      `t6`.`quarter` AS `__skg`,
      `t6`.`revenue` AS `__den`
    FROM (
      SELECT
        `t4`.`__p` AS `quarter`,
        SUM(`t4`.`revenue`) AS `revenue`
      FROM (
        SELECT
          `t0`.`completed_at`,
          `t0`.`revenue`,
          `t0`.`completed_at` AS `__t`,
          TIMESTAMP_TRUNC(`t0`.`completed_at`, QUARTER) AS `__p`
        FROM `assignments` AS `t0`
        WHERE
          `t0`.`completed_at` IS NOT NULL
      ) AS `t4`
      GROUP BY
        1
    ) AS `t6`
  ) AS `t9`
    ON `t12`.`quarter` = `t9`.`__skg`
) AS `t13`
ORDER BY
  `t13`.`quarter` ASC NULLS LAST,
  `t13`.`country` ASC NULLS LAST
