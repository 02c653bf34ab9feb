-- The same AssumeRole grouping in DuckDB: read_json over the gzipped trail files, unnest
-- Records, keep AssumeRole, group by caller and role. compare.py substitutes {glob}.
SELECT count(*) AS calls, r.userIdentity.arn AS caller, r.requestParameters.roleArn AS role,
       count(DISTINCT r.sourceIPAddress) AS ips, count(DISTINCT r.requestParameters.roleSessionName) AS names
FROM (
    SELECT unnest(Records) AS r
    FROM read_json('{glob}', format = 'auto', compression = 'gzip', maximum_object_size = 1073741824,
                   sample_size = -1, union_by_name = true)
)
WHERE r.eventName = 'AssumeRole'
GROUP BY ALL
ORDER BY calls DESC;
