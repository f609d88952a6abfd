SELECT
  "t13"."quarter" AS "quarter",
  "t13"."country" AS "country",
  "t13"."__m0" AS "revenue",
  CAST("t13"."__m0" AS Nullable(Float64)) / nullIf(CAST("t13"."__s0" AS Nullable(Float64)), 0) AS "revenue_share"
FROM (
  SELECT
    "t12"."quarter" AS "quarter",
    "t12"."country" AS "country",
    "t12"."__m0" AS "__m0",
    "t10"."__den" AS "__s0"
  FROM (
    SELECT
      "t9"."__p" AS "quarter",
      "t9"."__j0_f0" AS "country",
      sumIf("t9"."revenue", NOT (
        isNull("t9"."completed_at")
      )) AS "__m0"
    FROM (
      SELECT
        "t6"."assignment_id" AS "assignment_id",
        "t6"."task_id" AS "task_id",
        "t6"."worker_id" AS "worker_id",
        "t6"."accepted_at" AS "accepted_at",
        "t6"."completed_at" AS "completed_at",
        "t6"."hours" AS "hours",
        "t6"."revenue" AS "revenue",
        "t6"."__j0_f0" AS "__j0_f0",
        "t6"."completed_at" AS "__t",
        CAST(toStartOfQuarter("t6"."completed_at") AS Nullable(DateTime)) AS "__p"
      FROM (
        SELECT
          "t2"."assignment_id" AS "assignment_id",
          "t2"."task_id" AS "task_id",
          "t2"."worker_id" AS "worker_id",
          "t2"."accepted_at" AS "accepted_at",
          "t2"."completed_at" AS "completed_at",
          "t2"."hours" AS "hours",
          "t2"."revenue" AS "revenue",
          "t5"."__j0_f0" AS "__j0_f0"
        FROM "assignments" AS "t2"
        LEFT OUTER JOIN (
          SELECT
            "t1"."worker_id" AS "__j0_k0",
            "t1"."country" AS "__j0_f0"
          FROM "workers" AS "t1"
        ) AS "t5"
          ON "t2"."worker_id" = "t5"."__j0_k0"
      ) AS "t6"
      WHERE
        isNotNull("t6"."completed_at")
    ) AS "t9"
    GROUP BY
      "t9"."__p",
      "t9"."__j0_f0"
  ) AS "t12"
  LEFT OUTER JOIN (
    SELECT
      "t7"."quarter" AS "__skg",
      "t7"."__m0" AS "__den"
    FROM (
      SELECT
        "t4"."__p" AS "quarter",
        sumIf("t4"."revenue", NOT (
          isNull("t4"."completed_at")
        )) AS "__m0"
      FROM (
        SELECT
          "t0"."assignment_id" AS "assignment_id",
          "t0"."task_id" AS "task_id",
          "t0"."worker_id" AS "worker_id",
          "t0"."accepted_at" AS "accepted_at",
          "t0"."completed_at" AS "completed_at",
          "t0"."hours" AS "hours",
          "t0"."revenue" AS "revenue",
          "t0"."completed_at" AS "__t",
          CAST(toStartOfQuarter("t0"."completed_at") AS Nullable(DateTime)) AS "__p"
        FROM "assignments" AS "t0"
        WHERE
          isNotNull("t0"."completed_at")
      ) AS "t4"
      GROUP BY
        "t4"."__p"
    ) AS "t7"
  ) AS "t10"
    ON "t12"."quarter" = "t10"."__skg"
) AS "t13"
ORDER BY
  "t13"."quarter" ASC,
  "t13"."country" ASC
