WITH `t1` AS (
  SELECT
    `t0`.`account`,
    `t0`.`ts`,
    `t0`.`amount`,
    `t0`.`ts` AS `__t`,
    DATE_TRUNC('month', `t0`.`ts`) AS `__p`
  FROM `balances` AS `t0`
  WHERE
    `t0`.`ts` IS NOT NULL
)
SELECT
  *
FROM (
  SELECT
    `t10`.`month`,
    MAX(`t10`.`__m0`) AS `balance`,
    MAX(`t10`.`__m1`) AS `postings`
  FROM (
    SELECT
      *
    FROM (
      SELECT
        `t8`.`month`,
        `t8`.`__m0`,
        CAST(NULL AS BIGINT) AS `__m1`
      FROM (
        SELECT
          `t6`.`__p` AS `month`,
          SUM(`t6`.`amount`) AS `__m0`
        FROM (
          SELECT
            *
          FROM (
            SELECT
              `t2`.`account`,
              `t2`.`ts`,
              `t2`.`amount`,
              `t2`.`__t`,
              `t2`.`__p`,
              MAX(`t2`.`__t`) OVER (
                PARTITION BY `t2`.`__p`, `t2`.`account`
                ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING
              ) AS `__snap`
            FROM `t1` AS `t2`
          ) AS `t5`
          WHERE
            `t5`.`__t` = `t5`.`__snap`
        ) AS `t6`
        GROUP BY
          1
      ) AS `t8`
    ) AS `t9`
    UNION ALL
    SELECT
      *
    FROM (
      SELECT
        `t3`.`month`,
        CAST(NULL AS DOUBLE) AS `__m0`,
        `t3`.`__m1`
      FROM (
        SELECT
          `t2`.`__p` AS `month`,
          COUNT(*) AS `__m1`
        FROM `t1` AS `t2`
        GROUP BY
          1
      ) AS `t3`
    ) AS `t4`
  ) AS `t10`
  GROUP BY
    1
) AS `t11`
ORDER BY
  `t11`.`month` ASC NULLS LAST
