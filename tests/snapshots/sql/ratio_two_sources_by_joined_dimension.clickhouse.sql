SELECT
  *
FROM (
  SELECT
    "t3"."__p" AS "month",
    "t3"."region" AS "region",
    CAST(CASE
      WHEN countIf(
        CAST("t3"."task_id" IN (
          SELECT
            "t1"."task_id" AS "task_id"
          FROM "assignments" AS "t1"
        ) AS Nullable(Bool))
      ) > 0
      THEN countIf(
        CAST("t3"."task_id" IN (
          SELECT
            "t1"."task_id" AS "task_id"
          FROM "assignments" AS "t1"
          WHERE
            isNotNull("t1"."accepted_at")
        ) AS Nullable(Bool))
      )
      ELSE CAST(NULL AS Nullable(Int64))
    END AS Nullable(Float64)) / nullIf(CAST(COUNT(*) AS Nullable(Float64)), 0) AS "task_fill_rate"
  FROM (
    SELECT
      "t0"."task_id" AS "task_id",
      "t0"."region" AS "region",
      "t0"."posted_at" AS "posted_at",
      "t0"."posted_at" AS "__t",
      CAST(toStartOfMonth("t0"."posted_at") AS Nullable(DateTime)) AS "__p"
    FROM "tasks" AS "t0"
    WHERE
      isNotNull("t0"."posted_at")
  ) AS "t3"
  GROUP BY
    "t3"."__p",
    "t3"."region"
) AS "t5"
ORDER BY
  "t5"."month" ASC,
  "t5"."region" ASC
