"""Release: plan, build, publish, verify and report the images a GitHub release names.

Pure core: `tagname` (release tags), `tags` (the tag ladder), `plan` (the release plan and
Actions matrix), `index` (the OCI image index), `smoke` (the smoke test's verdict).
I/O at the edges: `context` (event, git, catalog), `pinned` (Dockerfile pins at the release
commit), `build` (Docker Engine), `staging`, `registry` (OCI distribution client),
`credentials`, `publish`, `verify`, `report` (job summary, release body).
"""
