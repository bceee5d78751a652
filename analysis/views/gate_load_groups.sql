-- gate_load_groups: every gate_loads row with its group, the one place the group is derived.
-- inputs: gate_loads
-- grain: as gate_loads (run × source × step × layer × expert)
-- formulas: grp = source without its last '/'-separated part (the gate-log file), i.e. <backend>/<dataset>
--   for the MoE experiment's sources <backend>/<dataset>/<file>; a source without '/' is its own group;
--   backend, dataset = the first and second part of a source <backend>/<dataset>/<file> (NULL for other sources).
-- units: as gate_loads.
SELECT *, CASE WHEN contains(source, '/') THEN regexp_replace(source, '/[^/]*$', '') ELSE source END AS grp,
  CASE WHEN len(string_split(source, '/')) >= 3 THEN split_part(source, '/', 1) END AS backend,
  CASE WHEN len(string_split(source, '/')) >= 3 THEN split_part(source, '/', 2) END AS dataset
FROM gate_loads
