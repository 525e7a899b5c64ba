# shellcheck shell=bash
# Sourced by /etc/bash.bashrc, so only interactive bash shells (`docker run -it miniconda2`)
# print it: a command run in the image prints its own output and nothing else. Programs
# read the same fact from the labels io.condabot.end-of-life and io.condabot.replacement.
cat >&2 <<'NOTICE'
WARNING: miniconda2 is END-OF-LIFE. Python 2.7 reached its end of life on 2020-01-01 and
this image is frozen at the last Miniconda2 release (py27_4.8.3): it receives no updates,
security fixes included. Use it only to run legacy code; move to miniconda3.
NOTICE
