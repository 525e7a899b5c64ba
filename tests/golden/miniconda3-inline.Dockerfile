# syntax=docker/dockerfile:1
# A hand-written image: URL literals in a case statement, checked with sha256sum.
FROM ubuntu:22.04 AS base

ARG DEBIAN_FRONTEND=noninteractive
RUN apt-get update && apt-get install -y --no-install-recommends wget ca-certificates \
 && rm -rf /var/lib/apt/lists/*

RUN case "$(uname -m)" in \
      x86_64) url=https://repo.anaconda.com/miniconda/Miniconda3-py39_23.1.0-1-Linux-x86_64.sh ; \
              sha=5dc619babc1d19d6688617966251a38d245cb93d69066ccde9a013e1ebb5bf18 ;; \
      aarch64) url=https://repo.anaconda.com/miniconda/Miniconda3-py39_23.1.0-1-Linux-aarch64.sh ; \
               sha=5e67416a574c49e19dc21d5b9ed586400863a685bc4e34b4d933ea8c7c1ed2da ;; \
      *) echo "no installer for $(uname -m)" >&2 ; exit 1 ;; \
    esac \
 && wget -q "$url" -O /tmp/miniconda.sh \
 && echo "$sha  /tmp/miniconda.sh" | sha256sum --check \
 && bash /tmp/miniconda.sh -b -p /opt/conda \
 && rm /tmp/miniconda.sh

ENV PATH=/opt/conda/bin:$PATH
CMD ["python"]
