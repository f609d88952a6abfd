SELECT
  *
FROM (
  SELECT
    "t11"."__p" AS "month",
    "t11"."__j1_f0" AS "country",
    "t11"."__j2_f0" AS "borough",
    COUNT(*) AS "trips",
    SUM("t11"."fare") / nullIf(CAST(COUNT(*) AS Nullable(Float64)), 0) AS "fare_per_trip"
  FROM (
    SELECT
      "t10"."started_at" AS "started_at",
      "t10"."fare" AS "fare",
      "t10"."__j0_f0" AS "__j0_f0",
      "t10"."__j2_f0" AS "__j2_f0",
      "t10"."__j1_f0" AS "__j1_f0",
      "t10"."started_at" AS "__t",
      CAST(toStartOfMonth("t10"."started_at") AS Nullable(DateTime)) AS "__p"
    FROM (
      SELECT
        "t3"."started_at" AS "started_at",
        "t3"."fare" AS "fare",
        "t8"."__j0_f0" AS "__j0_f0",
        "t7"."__j2_f0" AS "__j2_f0",
        "t9"."__j1_f0" AS "__j1_f0"
      FROM "trips" AS "t3"
      LEFT OUTER JOIN (
        SELECT
          "t1"."zone_id" AS "__j0_k0",
          "t1"."borough" AS "__j0_f0",
          "t1"."city_id" AS "__j0_c_city_id"
        FROM "zones" AS "t1"
      ) AS "t8"
        ON "t3"."pickup_zone" = "t8"."__j0_k0"
      LEFT OUTER JOIN (
        SELECT
          "t1"."zone_id" AS "__j2_k0",
          "t1"."borough" AS "__j2_f0"
        FROM "zones" AS "t1"
      ) AS "t7"
        ON "t3"."dropoff_zone" = "t7"."__j2_k0"
      LEFT OUTER JOIN (
        SELECT
          "t2"."city_id" AS "__j1_k0",
          "t2"."country" AS "__j1_f0"
        FROM "cities" AS "t2"
      ) AS "t9"
        ON "t8"."__j0_c_city_id" = "t9"."__j1_k0"
    ) AS "t10"
    WHERE
      "t10"."__j0_f0" <> "t10"."__j2_f0" AND isNotNull("t10"."started_at")
  ) AS "t11"
  GROUP BY
    "t11"."__p",
    "t11"."__j1_f0",
    "t11"."__j2_f0"
) AS "t12"
ORDER BY
  "t12"."month" ASC,
  "t12"."country" ASC,
  "t12"."borough" ASC
