FROM debian:bookworm-slim

LABEL maintainer="Anaconda, Inc"

ENV LANG=C.UTF-8 LC_ALL=C.UTF-8

RUN apt-get update -q && \
    apt-get install -q -y --no-install-recommends \
        bzip2 \
        ca-certificates \
        git \
        libglib2.0-0 \
        libsm6 \
        libxcomposite1 \
        libxcursor1 \
        libxdamage1 \
        libxext6 \
        libxfixes3 \
        libxi6 \
        libxinerama1 \
        libxrandr2 \
        libxrender1 \
        mercurial \
        openssh-client \
        procps \
        subversion \
        wget \
    && apt-get clean \
    && rm -rf /var/lib/apt/lists/*

ENV PATH=/opt/conda/bin:$PATH

# renovate: datasource=custom.anaconda_installer
ARG INSTALLER_URL_LINUX64=https://repo.anaconda.com/archive/Anaconda3-2023.07-2-Linux-x86_64.sh
ARG SHA256SUM_LINUX64=589fb34fe73bc303379abbceba50f3131254e85ce4e7cd819ba4276ba29cad16
# renovate: datasource=custom.anaconda_installer
ARG INSTALLER_URL_AARCH64=https://repo.anaconda.com/archive/Anaconda3-2023.07-2-Linux-aarch64.sh
ARG SHA256SUM_AARCH64=75967bc2113d9e336e670e1e557c9198d8b98e59fb9adb82cbe0e71ce5f7c2db
# renovate: datasource=custom.anaconda_installer
ARG INSTALLER_URL_PPC64LE=https://repo.anaconda.com/archive/Anaconda3-2023.07-2-Linux-ppc64le.sh
ARG SHA256SUM_PPC64LE=7a72e301fb3b8e175a96b6457fc84654dd2eb98942528d9988760779b92847e4
# renovate: datasource=custom.anaconda_installer
ARG INSTALLER_URL_S390X=https://repo.anaconda.com/archive/Anaconda3-2023.07-2-Linux-s390x.sh
ARG SHA256SUM_S390X=121743a62210249dd9fb9d6527d545d08f6bf6d2624d51ad4b5d168cb3e860d6

RUN set -x && \
    UNAME_M="$(uname -m)" && \
    case "${UNAME_M}" in \
        x86_64) INSTALLER_URL="${INSTALLER_URL_LINUX64}"; SHA256SUM="${SHA256SUM_LINUX64}" ;; \
        aarch64) INSTALLER_URL="${INSTALLER_URL_AARCH64}"; SHA256SUM="${SHA256SUM_AARCH64}" ;; \
        ppc64le) INSTALLER_URL="${INSTALLER_URL_PPC64LE}"; SHA256SUM="${SHA256SUM_PPC64LE}" ;; \
        s390x) INSTALLER_URL="${INSTALLER_URL_S390X}"; SHA256SUM="${SHA256SUM_S390X}" ;; \
        *) echo "unsupported architecture: ${UNAME_M}" >&2; exit 1 ;; \
    esac && \
    wget "${INSTALLER_URL}" -O anaconda.sh -q && \
    echo "${SHA256SUM}  anaconda.sh" > shasum && \
    sha256sum --check --status shasum && \
    /bin/bash anaconda.sh -b -p /opt/conda && \
    rm anaconda.sh shasum && \
    ln -s /opt/conda/etc/profile.d/conda.sh /etc/profile.d/conda.sh && \
    echo ". /opt/conda/etc/profile.d/conda.sh" >> ~/.bashrc && \
    echo "conda activate base" >> ~/.bashrc && \
    find /opt/conda/ -follow -type f -name '*.a' -delete && \
    find /opt/conda/ -follow -type f -name '*.js.map' -delete && \
    /opt/conda/bin/conda clean -afy

CMD [ "/bin/bash" ]
