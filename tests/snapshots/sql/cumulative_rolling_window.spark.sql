SELECT
  *
FROM (
  SELECT
    `t4`.`__p` AS `week`,
    COUNT(DISTINCT IF(`t3`.`completed_at` IS NOT NULL, `t3`.`worker_id`, NULL)) AS `active_workers_28d`
  FROM (
    SELECT
      `t0`.`worker_id`,
      `t0`.`completed_at`,
      `t0`.`completed_at` AS `__t`
    FROM `assignments` AS `t0`
    WHERE
      `t0`.`completed_at` IS NOT NULL
      AND `t0`.`completed_at` < CAST('2024-06-03T00:00:00' AS TIMESTAMP)
  ) AS `t3`
  INNER JOIN (
    SELECT
      EXPLODE(
        IF(
          (
            INTERVAL '7' DAY <> INTERVAL 0 day
          )
          AND (
            SIGN(INTERVAL '7' DAY) = SIGN(
              CAST('2024-06-03T00:00:00' AS TIMESTAMP) - CAST('2024-03-04T00:00:00' AS TIMESTAMP)
            )
          ),
          IF(
            ELEMENT_AT(
              SEQUENCE(
                CAST('2024-03-04T00:00:00' AS TIMESTAMP),
                CAST('2024-06-03T00:00:00' AS TIMESTAMP),
                INTERVAL '7' DAY
              ),
              SIZE(
                SEQUENCE(
                  CAST('2024-03-04T00:00:00' AS TIMESTAMP),
                  CAST('2024-06-03T00:00:00' AS TIMESTAMP),
                  INTERVAL '7' DAY
                )
              )
            ) = CAST('2024-06-03T00:00:00' AS TIMESTAMP),
            SLICE(
              SEQUENCE(
                CAST('2024-03-04T00:00:00' AS TIMESTAMP),
                CAST('2024-06-03T00:00:00' AS TIMESTAMP),
                INTERVAL '7' DAY
              ),
              1,
              SIZE(
                SEQUENCE(
                  CAST('2024-03-04T00:00:00' AS TIMESTAMP),
                  CAST('2024-06-03T00:00:00' AS TIMESTAMP),
                  INTERVAL '7' DAY
                )
              ) - 1
            ),
            SEQUENCE(
              CAST('2024-03-04T00:00:00' AS TIMESTAMP),
              CAST('2024-06-03T00:00:00' AS TIMESTAMP),
              INTERVAL '7' DAY
            )
          ),
          ARRAY()
        )
      ) AS `__p`
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
