-- gate_load_groups: every gate_loads row with its group, the one place the group is derived.
-- inputs: gate_loads
-- grain: as gate_loads (run × source × step × layer × expert)
-- formulas: grp = source without its last '/'-separated part (the gate-log file), i.e. <backend>/<dataset>
--   for the MoE experiment's sources <backend>/<dataset>/<file>; a source without '/' is its own group.
-- units: as gate_loads.
SELECT *, CASE WHEN contains(source, '/') THEN regexp_replace(source, '/[^/]*$', '') ELSE source END AS grp
FROM gate_loads
