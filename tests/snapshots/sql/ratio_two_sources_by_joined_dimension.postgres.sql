SELECT
  "t13"."month",
  "t13"."region",
  CAST("t13"."__m0" AS DOUBLE PRECISION) / NULLIF(CAST("t13"."__m1" AS DOUBLE PRECISION), 0) AS "task_fill_rate"
FROM (
  SELECT
    "t12"."month",
    "t12"."region",
    MAX("t12"."__m0") AS "__m0",
    MAX("t12"."__m1") AS "__m1"
  FROM (
    SELECT
      *
    FROM (
      SELECT
        "t10"."month",
        "t10"."region",
        "t10"."__m0",
        CAST(NULL AS BIGINT) AS "__m1"
      FROM (
        SELECT
          "t9"."__p" AS "month",
          "t9"."__j0_f0" AS "region",
          COUNT(DISTINCT "t9"."task_id") FILTER(WHERE
            NOT (
              "t9"."accepted_at" IS NULL
            )) AS "__m0"
        FROM (
          SELECT
            "t8"."assignment_id",
            "t8"."task_id",
            "t8"."worker_id",
            "t8"."accepted_at",
            "t8"."completed_at",
            "t8"."hours",
            "t8"."revenue",
            "t8"."__j0_f0",
            "t8"."__j0_f1",
            "t8"."__j0_f1" AS "__t",
            DATE_TRUNC('MONTH', "t8"."__j0_f1") AS "__p"
          FROM (
            SELECT
              "t2"."assignment_id",
              "t2"."task_id",
              "t2"."worker_id",
              "t2"."accepted_at",
              "t2"."completed_at",
              "t2"."hours",
              "t2"."revenue",
              "t5"."__j0_f0",
              "t5"."__j0_f1"
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
            "t8"."__j0_f1" IS NOT NULL
        ) AS "t9"
        GROUP BY
          1,
          2
      ) AS "t10"
    ) AS "t11"
    UNION ALL
    SELECT
      *
    FROM (
      SELECT
        "t6"."month",
        "t6"."region",
        CAST(NULL AS BIGINT) AS "__m0",
        "t6"."__m1"
      FROM (
        SELECT
          "t4"."__p" AS "month",
          "t4"."region",
          COUNT(*) AS "__m1"
        FROM (
          SELECT
            "t0"."task_id",
            "t0"."client_id",
            "t0"."category",
            "t0"."region",
            "t0"."posted_at",
            "t0"."budget",
            "t0"."posted_at" AS "__t",
            DATE_TRUNC('MONTH', "t0"."posted_at") AS "__p"
          FROM "tasks" AS "t0"
          WHERE
            "t0"."posted_at" IS NOT NULL
        ) AS "t4"
        GROUP BY
          1,
          2
      ) AS "t6"
    ) AS "t7"
  ) AS "t12"
  GROUP BY
    1,
    2
) AS "t13"
ORDER BY
  "t13"."month" ASC,
  "t13"."region" ASC
