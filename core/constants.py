"""Named figures shared by the apps."""

# How long a process keeps reference data it reads on every request (matter types, SLA
# policies, grid cells, calendar overrides) before reading it again (seconds): an edit made in
# the admin reaches every web process and worker within a minute, without a restart.
REFERENCE_MAX_AGE = 60.0
