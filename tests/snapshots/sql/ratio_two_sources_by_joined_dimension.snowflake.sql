SELECT
  *
FROM (
  SELECT
    "t3"."__p" AS "month",
    "t3"."region",
    CAST(IFF(
      COUNT_IF("t3"."task_id" IN (
        SELECT
          "t1"."task_id"
        FROM "assignments" AS "t1"
      )) > 0,
      COUNT_IF(
        "t3"."task_id" IN (
          SELECT
            "t1"."task_id"
          FROM "assignments" AS "t1"
          WHERE
            "t1"."accepted_at" IS NOT NULL
        )
      ),
      CAST(NULL AS BIGINT)
    ) AS DOUBLE) / NULLIF(CAST(COUNT(*) AS DOUBLE), 0) AS "task_fill_rate"
  FROM (
    SELECT
      "t0"."task_id",
      "t0"."region",
      "t0"."posted_at",
      "t0"."posted_at" AS "__t",
      DATE_TRUNC('MONTH', "t0"."posted_at") AS "__p"
    FROM "tasks" AS "t0"
    WHERE
      "t0"."posted_at" IS NOT NULL
  ) AS "t3"
  GROUP BY
    1,
    2
) AS "t5"
ORDER BY
  "t5"."month" ASC,
  "t5"."region" ASC
