SELECT
  *
FROM (
  SELECT
    `t11`.`__p` AS `month`,
    `t11`.`__j1_f0` AS `country`,
    `t11`.`__j2_f0` AS `borough`,
    COUNT(*) AS `trips`,
    SUM(`t11`.`fare`) / NULLIF(CAST(COUNT(*) AS DOUBLE), 0) AS `fare_per_trip`
  FROM (
    SELECT
      `t3`.`started_at`,
      `t3`.`fare`,
      `t1`.`borough` AS `__j0_f0`,
      `t7`.`__j2_f0`,
      `t2`.`country` AS `__j1_f0`,
      `t3`.`started_at` AS `__t`,
      DATE_TRUNC('month', `t3`.`started_at`) AS `__p`
    FROM `trips` AS `t3`
    LEFT OUTER JOIN `zones` AS `t1`
      ON `t3`.`pickup_zone` = `t1`.`zone_id`
    LEFT OUTER JOIN (
      SELECT
        `t1`.`zone_id` AS `__j2_k0`,
        `t1`.`borough` AS `__j2_f0`
      FROM `zones` AS `t1`
    ) AS `t7`
      ON `t3`.`dropoff_zone` = `t7`.`__j2_k0`
    LEFT OUTER JOIN `cities` AS `t2`
      ON `t1`.`city_id` = `t2`.`city_id`
    WHERE
      `t1`.`borough` <> `t7`.`__j2_f0` AND `t3`.`started_at` IS NOT NULL
  ) AS `t11`
  GROUP BY
    1,
    2,
    3
) AS `t12`
ORDER BY
  `t12`.`month` ASC NULLS LAST,
  `t12`.`country` ASC NULLS LAST,
  `t12`.`borough` ASC NULLS LAST
