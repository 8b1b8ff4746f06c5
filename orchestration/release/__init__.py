"""What happens after staging, by a person: the release to `published/` and its hash-chained
log, the inputs an edition keeps, and rebuilding and comparing a published edition."""
