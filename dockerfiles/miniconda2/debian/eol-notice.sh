#!/bin/sh
# Entrypoint of the frozen miniconda2 image: says it is end-of-life, then runs the command.
cat >&2 <<'NOTICE'
WARNING: miniconda2 is END-OF-LIFE. Python 2.7 reached its end of life on 2020-01-01 and
this image is frozen at the last Miniconda2 release (py27_4.8.3): it receives no updates,
security fixes included. Use it only to run legacy code; move to miniconda3.
NOTICE
if [ "$#" -eq 0 ]; then
    set -- /bin/bash
fi
exec "$@"
