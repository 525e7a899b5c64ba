#!/bin/bash
# The install step every Dockerfile here shares: `COPY install-conda.sh /tmp/` then
# `RUN bash /tmp/install-conda.sh`. It removes itself, and everything fetched only for the
# install (curl and every library it pulled in, even those another package recommends or
# suggests; apt lists; the installer), so the layer holds only what stays.
#
# Input: the Dockerfile's ARGs (CONDA_PREFIX_DIR, CONDA_USER, CONDA_UID, CONDA_GID,
# UPSTREAM_URL, TARGET_ARCH_OVERRIDE, ACCEPT_ANACONDA_TOS, INSTALLER_URL_<ARCH>,
# SHA256SUM_<ARCH>), and from the RUN line:
#   PACKAGES        Debian packages the image keeps besides ca-certificates and tini
#   BUILD_PACKAGES  packages needed by the install only, purged with curl
# No CONDA_USER: only the group `conda` is made (the dev container makes its own user).
#
# Kept at run time:
#   ca-certificates  TLS trust for tools outside conda, which has its own (git, curl in
#                    derived images; conda's `ssl_verify: truststore`); 4 MB with openssl
#   tini             init as PID 1: forwards signals, reaps zombies (the ENTRYPOINT)
set -euo pipefail

arch="${TARGET_ARCH_OVERRIDE:-$(uname -m)}"
supported="${INSTALLER_URL_LINUX64:+x86_64 }${INSTALLER_URL_AARCH64:+aarch64 }${INSTALLER_URL_PPC64LE:+ppc64le }${INSTALLER_URL_S390X:+s390x }"
case "${arch}" in
    x86_64) url="${INSTALLER_URL_LINUX64:-}"; sha="${SHA256SUM_LINUX64:-}" ;;
    aarch64) url="${INSTALLER_URL_AARCH64:-}"; sha="${SHA256SUM_AARCH64:-}" ;;
    ppc64le) url="${INSTALLER_URL_PPC64LE:-}"; sha="${SHA256SUM_PPC64LE:-}" ;;
    s390x) url="${INSTALLER_URL_S390X:-}"; sha="${SHA256SUM_S390X:-}" ;;
    *) url=""; sha="" ;;
esac
if [ -z "${url}" ]; then
    echo "condabot: unsupported architecture ${arch}: this image has installers for: ${supported% }" >&2
    exit 1
fi
# Anaconda's default channels stop conda non-interactively (CondaToSNonInteractiveError)
# until their Terms of Service are accepted. yes: accepted for every user of the image, as
# Anaconda's own images do (conda's `plugins.auto_accept_tos`, set in /etc/conda); no: conda
# asks, and fails where it cannot ask. The label io.condabot.accept-anaconda-tos says which.
case "${ACCEPT_ANACONDA_TOS}" in
    yes | no) ;;
    *) echo "condabot: ACCEPT_ANACONDA_TOS must be yes or no, not '${ACCEPT_ANACONDA_TOS}'" >&2; exit 1 ;;
esac
file="${url##*/}"
upstream="${UPSTREAM_URL:-https://repo.anaconda.com}"
case "${url}" in
    https://repo.anaconda.com/*) url="${upstream%/}${url#https://repo.anaconda.com}" ;;
esac
prefix="${CONDA_PREFIX_DIR}"

# Ubuntu's base (24.04 on) has a user `ubuntu` holding UID 1000.
if id -u ubuntu > /dev/null 2>&1; then userdel --remove ubuntu; fi
groupadd --gid "${CONDA_GID}" "${CONDA_USER:-conda}"
if [ -n "${CONDA_USER:-}" ]; then
    useradd --uid "${CONDA_UID}" --gid "${CONDA_GID}" --create-home --shell /bin/bash "${CONDA_USER}"
fi
apt-get update -q
# Package versions follow the base digest: pinning them breaks the build whenever the
# archive moves on, which it does with every point release.
# shellcheck disable=SC2086 # the package lists split on spaces
apt-get install -q -y --no-install-recommends ${BUILD_PACKAGES:-} ca-certificates curl ${PACKAGES:-} tini

echo "condabot: downloading ${url}"
curl --fail --silent --show-error --location --retry 3 --proto '=https,http' \
    --output "/tmp/${file}" "${url}"
echo "${sha}  /tmp/${file}" > /tmp/installer.sha256
if ! sha256sum --check --status /tmp/installer.sha256; then
    echo "condabot: installer checksum mismatch for ${file}: expected ${sha}, got $(sha256sum "/tmp/${file}" | cut -d ' ' -f 1)" >&2
    exit 1
fi
if [ -e "${prefix}" ]; then
    bash "/tmp/${file}" -b -u -p "${prefix}"
else
    bash "/tmp/${file}" -b -p "${prefix}"
fi
rm -f "/tmp/${file}" /tmp/installer.sha256
printf 'filename=%s\nsha256=%s\narch=%s\n' "${file}" "${sha}" "${arch}" > "${prefix}/.condabot-installer"

ln -s "${prefix}/etc/profile.d/conda.sh" /etc/profile.d/conda.sh
printf '\n# conda: activate base in interactive shells\n. %s/etc/profile.d/conda.sh && conda activate base\n' \
    "${prefix}" >> /etc/bash.bashrc
mkdir -p /etc/jupyter
echo '{"ServerApp": {"allow_root": true}}' > /etc/jupyter/jupyter_server_config.json
echo '{"NotebookApp": {"allow_root": true}}' > /etc/jupyter/jupyter_notebook_config.json
if [ "${ACCEPT_ANACONDA_TOS}" = yes ]; then
    mkdir -p /etc/conda/condarc.d
    printf '%s\n' "# condabot: Anaconda's channel Terms of Service are accepted for every user" \
        "# (build argument ACCEPT_ANACONDA_TOS=yes); CONDA_PLUGINS_AUTO_ACCEPT_TOS=no turns it off." \
        "plugins:" "  auto_accept_tos: true" > /etc/conda/condarc.d/anaconda-tos.yml
fi

find "${prefix}" -type f \( -name '*.a' -o -name '*.js.map' \) -delete
"${prefix}/bin/conda" clean -afy
chgrp -R "${CONDA_GID}" "${prefix}"
chmod -R g+w "${prefix}"
find "${prefix}" -type d -exec chmod g+s {} +
# shellcheck disable=SC2086
apt-get purge -q -y --auto-remove ${BUILD_PACKAGES:-} curl \
    -o APT::AutoRemove::RecommendsImportant=false -o APT::AutoRemove::SuggestsImportant=false
apt-get clean
rm -rf /var/lib/apt/lists/* /var/cache/debconf/*-old
rm -f -- "$0"
