SELECT
  "t13"."month" AS "month",
  "t13"."region" AS "region",
  CAST("t13"."__m0" AS Nullable(Float64)) / nullIf(CAST("t13"."__m1" AS Nullable(Float64)), 0) AS "task_fill_rate"
FROM (
  SELECT
    "t12"."month" AS "month",
    "t12"."region" AS "region",
    MAX("t12"."__m0") AS "__m0",
    MAX("t12"."__m1") AS "__m1"
  FROM (
    SELECT
      *
    FROM (
      SELECT
        "t10"."month" AS "month",
        "t10"."region" AS "region",
        "t10"."__m0" AS "__m0",
        CAST(NULL AS Nullable(Int64)) AS "__m1"
      FROM (
        SELECT
          "t9"."__p" AS "month",
          "t9"."__j0_f0" AS "region",
          uniqIf("t9"."task_id", NOT (
            isNull("t9"."accepted_at")
          )) AS "__m0"
        FROM (
          SELECT
            "t8"."assignment_id" AS "assignment_id",
            "t8"."task_id" AS "task_id",
            "t8"."worker_id" AS "worker_id",
            "t8"."accepted_at" AS "accepted_at",
            "t8"."completed_at" AS "completed_at",
            "t8"."hours" AS "hours",
            "t8"."revenue" AS "revenue",
            "t8"."__j0_f0" AS "__j0_f0",
            "t8"."__j0_f1" AS "__j0_f1",
            "t8"."__j0_f1" AS "__t",
            CAST(toStartOfMonth("t8"."__j0_f1") AS Nullable(DateTime)) AS "__p"
          FROM (
            SELECT
              "t2"."assignment_id" AS "assignment_id",
              "t2"."task_id" AS "task_id",
              "t2"."worker_id" AS "worker_id",
              "t2"."accepted_at" AS "accepted_at",
              "t2"."completed_at" AS "completed_at",
              "t2"."hours" AS "hours",
              "t2"."revenue" AS "revenue",
              "t5"."__j0_f0" AS "__j0_f0",
              "t5"."__j0_f1" AS "__j0_f1"
            FROM "assignments" AS "t2"
            LEFT OUTER JOIN (
              SELECT
                "t0"."task_id" AS "__j0_k0",
                "t0"."region" AS "__j0_f0",
                "t0"."posted_at" AS "__j0_f1"
              FROM "tasks" AS "t0"
            ) AS "t5"
              ON "t2"."task_id" = "t5"."__j0_k0"
          ) AS "t8"
          WHERE
            isNotNull("t8"."__j0_f1")
        ) AS "t9"
        GROUP BY
          "t9"."__p",
          "t9"."__j0_f0"
      ) AS "t10"
    ) AS "t11"
    UNION ALL
    SELECT
      *
    FROM (
      SELECT
        "t6"."month" AS "month",
        "t6"."region" AS "region",
        CAST(NULL AS Nullable(Int64)) AS "__m0",
        "t6"."__m1" AS "__m1"
      FROM (
        SELECT
          "t4"."__p" AS "month",
          "t4"."region" AS "region",
          COUNT(*) AS "__m1"
        FROM (
          SELECT
            "t0"."task_id" AS "task_id",
            "t0"."client_id" AS "client_id",
            "t0"."category" AS "category",
            "t0"."region" AS "region",
            "t0"."posted_at" AS "posted_at",
            "t0"."budget" AS "budget",
            "t0"."posted_at" AS "__t",
            CAST(toStartOfMonth("t0"."posted_at") AS Nullable(DateTime)) AS "__p"
          FROM "tasks" AS "t0"
          WHERE
            isNotNull("t0"."posted_at")
        ) AS "t4"
        GROUP BY
          "t4"."__p",
          "t4"."region"
      ) AS "t6"
    ) AS "t7"
  ) AS "t12"
  GROUP BY
    "t12"."month",
    "t12"."region"
) AS "t13"
ORDER BY
  "t13"."month" ASC,
  "t13"."region" ASC
