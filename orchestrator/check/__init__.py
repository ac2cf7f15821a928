"""`linkmatrix check PATH`: a user's crate built and inspected like a scenario, its exports
compared with a snapshot kept beside it.

`crate` reads the crate's manifests and makes a Scenario of them (pure but for reading files);
`noise` says which exported names belong to the crate; `snapshot` is the snapshot file's model,
reader, writer and diff; `command` carries a check out through the usual plan and pipeline.
"""
