WITH "t1" AS (
  SELECT
    "t0"."account" AS "account",
    "t0"."ts" AS "ts",
    "t0"."amount" AS "amount",
    "t0"."ts" AS "__t",
    CAST(toStartOfMonth("t0"."ts") AS Nullable(DateTime)) AS "__p"
  FROM "balances" AS "t0"
  WHERE
    isNotNull("t0"."ts")
)
SELECT
  *
FROM (
  SELECT
    "t10"."month" AS "month",
    MAX("t10"."__m0") AS "balance",
    MAX("t10"."__m1") AS "postings"
  FROM (
    SELECT
      *
    FROM (
      SELECT
        "t8"."month" AS "month",
        "t8"."__m0" AS "__m0",
        CAST(NULL AS Nullable(Int64)) AS "__m1"
      FROM (
        SELECT
          "t7"."__p" AS "month",
          SUM("t7"."amount") AS "__m0"
        FROM (
          SELECT
            "t6".*
            EXCEPT ("__snap")
          FROM (
            SELECT
              *
            FROM (
              SELECT
                "t2"."account" AS "account",
                "t2"."ts" AS "ts",
                "t2"."amount" AS "amount",
                "t2"."__t" AS "__t",
                "t2"."__p" AS "__p",
                MAX("t2"."__t") OVER (
                  PARTITION BY "t2"."__p", "t2"."account"
                  ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING
                ) AS "__snap"
              FROM "t1" AS "t2"
            ) AS "t5"
            WHERE
              "t5"."__t" = "t5"."__snap"
          ) AS "t6"
        ) AS "t7"
        GROUP BY
          "t7"."__p"
      ) AS "t8"
    ) AS "t9"
    UNION ALL
    SELECT
      *
    FROM (
      SELECT
        "t3"."month" AS "month",
        CAST(NULL AS Nullable(Float64)) AS "__m0",
        "t3"."__m1" AS "__m1"
      FROM (
        SELECT
          "t2"."__p" AS "month",
          COUNT(*) AS "__m1"
        FROM "t1" AS "t2"
        GROUP BY
          "t2"."__p"
      ) AS "t3"
    ) AS "t4"
  ) AS "t10"
  GROUP BY
    "t10"."month"
) AS "t11"
ORDER BY
  "t11"."month" ASC
