SELECT
  *
FROM (
  SELECT
    `t4`.`__p` AS `week`,
    COUNT(DISTINCT `t3`.`worker_id`) FILTER(WHERE
      NOT `t3`.`completed_at` IS NULL) AS `active_workers_28d`
  FROM (
    SELECT
      `t0`.`worker_id`,
      `t0`.`completed_at`,
      `t0`.`completed_at` AS `__t`
    FROM `assignments` AS `t0`
    WHERE
      NOT `t0`.`completed_at` IS NULL
      AND `t0`.`completed_at` < DATETIME(2024, 6, 3, 0, 0, 0.0)
  ) AS `t3`
  INNER JOIN (
    SELECT
      IF(pos = pos_2, `__p`, NULL) AS `__p`
    FROM UNNEST(GENERATE_ARRAY(
      0,
      GREATEST(
        ARRAY_LENGTH(
          GENERATE_ARRAY(DATETIME(2024, 3, 4, 0, 0, 0.0), DATETIME(2024, 6, 3, 0, 0, 0.0), INTERVAL '7' DAY)
        )
      ) - 1
    )) AS pos
    CROSS JOIN UNNEST(GENERATE_ARRAY(DATETIME(2024, 3, 4, 0, 0, 0.0), DATETIME(2024, 6, 3, 0, 0, 0.0), INTERVAL '7' DAY)) AS `__p` WITH OFFSET AS pos_2
    WHERE
      pos = pos_2
      OR (
        pos > (
          ARRAY_LENGTH(
            GENERATE_ARRAY(DATETIME(2024, 3, 4, 0, 0, 0.0), DATETIME(2024, 6, 3, 0, 0, 0.0), INTERVAL '7' DAY)
          ) - 1
        )
        AND pos_2 = (
          ARRAY_LENGTH(
            GENERATE_ARRAY(DATETIME(2024, 3, 4, 0, 0, 0.0), DATETIME(2024, 6, 3, 0, 0, 0.0), INTERVAL '7' DAY)
          ) - 1
        )
      )
  ) AS `t4`
    ON `t3`.`__t` < (
      `t4`.`__p` + INTERVAL '7' DAY
    )
    AND `t3`.`__t` >= (
      (
        `t4`.`__p` + INTERVAL '7' DAY
      ) - INTERVAL '28' DAY
    )
  GROUP BY
    1
) AS `t6`
ORDER BY
  `t6`.`week` ASC NULLS LAST
