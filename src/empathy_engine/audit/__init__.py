"""QA audit and trust KPIs: the live pipeline, run over many stored calls (docs/audit.md).

sources.from_files(paths)            an iterator of conversations (the service's database later)
mapper.audit_call(...)               MAP: one analysed call -> one small CallRecord (pure)
aggregate.Aggregate.add / .merge     REDUCE: mergeable, order-independent aggregates
joins.JoinStore                      cross-call KPIs (repeat contacts, outcomes, reviews) on disk
runner.run(source, executor, ...)    the executor is swappable: serial, process pool, distributed
job.run_audit(source, options)       all of it, with JSON/CSV/HTML outputs
exemplars.build_exemplars(...)       `empathy exemplars build`: proven answers, from the turn results
"""
