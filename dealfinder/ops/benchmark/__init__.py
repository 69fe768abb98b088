"""`manage.py benchmark`: DealFinder's bulk paths measured at county scale beside their physical baselines.

- county.py: a synthetic county of N parcels (deterministic per object id, so 1M parcels never sit in memory)
  with correlated distress: tax-deed sales, foreclosures, code violations, valuations, absentee owners and
  listings with price drops, plus M cash buyers with realistic buy boxes;
- server.py: that county as ArcGIS REST layers (metadata, returnIdsOnly, POSTed objectIds chunks) on a
  loopback HTTP server running in a thread;
- scratch.py: the scratch database the benchmark runs in (created, migrated and dropped), or the guard that
  refuses a database holding real data;
- run.py: the measured steps and figures (ingest vs COPY, re-ingest, rescore vs UPDATE, match, pipeline,
  map, API, memory);
- probes.py: peak memory per step and the machine's description;
- report.py: the figures against their targets, the JSON result and the printed table.
"""
