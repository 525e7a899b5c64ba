"""The pin reader: every form it reads, and every hostile value it refuses (file and line)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.errors import DockerfileError
from bot.pins import Pin, PinFormat, read_pins

GOLDEN = Path(__file__).parent / "golden"
SHA = "333779c9cae3fe14735949a8dcb9657b9e55ada69e9c60f191c5d582b2deac20"
URL = "https://repo.anaconda.com/miniconda/Miniconda3-py311_23.5.1-0-Linux-x86_64.sh"


def golden(name: str) -> str:
    return (GOLDEN / name).read_bytes().decode()


def summary(pins: tuple[Pin, ...]) -> list[tuple[str, str, str | None, str, str]]:
    return [(p.arch, p.format.value, p.python, p.version.text, p.sha256[:8]) for p in pins]


def spans_hold_values(text: str, pin: Pin) -> bool:
    url_text = text[pin.url_span.start : pin.url_span.end]
    return (
        text[pin.sha_span.start : pin.sha_span.end] == pin.sha256
        and pin.value_for(pin.url) == url_text
    )


def test_reads_the_images_repo_miniconda_dockerfile() -> None:
    text = golden("miniconda3-debian.Dockerfile")
    pins = read_pins(text, "miniconda3/debian/Dockerfile")
    assert summary(pins) == [
        ("x86_64", "arg-pair", "py311", "23.5.1-0", "333779c9"),
        ("s390x", "arg-pair", "py311", "23.5.1-0", "4472acdf"),
        ("aarch64", "arg-pair", "py311", "23.5.1-0", "a7a68db6"),
    ]
    assert pins[0].url == URL and pins[0].line == 30
    assert all(spans_hold_values(text, p) for p in pins)
    # The removable block is the marker line plus both ARG lines.
    block = "".join(text[s.start : s.end] for s in pins[1].block)
    assert block.splitlines()[0] == "# renovate: datasource=custom.miniconda_installer"
    assert len(block.splitlines()) == 3


def test_reads_the_images_repo_anaconda_dockerfile_unquoted() -> None:
    text = golden("anaconda3-debian.Dockerfile")
    pins = read_pins(text)
    assert [(p.arch, p.product.value, p.python, p.version.text) for p in pins] == [
        ("x86_64", "anaconda3", None, "2023.07-2"),
        ("aarch64", "anaconda3", None, "2023.07-2"),
        ("ppc64le", "anaconda3", None, "2023.07-2"),
        ("s390x", "anaconda3", None, "2023.07-2"),
    ]
    assert all(spans_hold_values(text, p) for p in pins)


def test_reads_the_older_version_arg_form() -> None:
    text = golden("miniconda3-templated.Dockerfile")
    pins = read_pins(text)
    assert {p.format for p in pins} == {PinFormat.TEMPLATED}
    assert [p.arch for p in pins] == ["x86_64", "s390x", "aarch64", "ppc64le"]
    assert {text[p.url_span.start : p.url_span.end] for p in pins} == {"py39_23.1.0-1"}
    assert pins[2].url.endswith("/Miniconda3-py39_23.1.0-1-Linux-aarch64.sh")
    assert all(spans_hold_values(text, p) for p in pins)


def test_reads_url_literals_with_nearby_hashes() -> None:
    text = golden("miniconda3-inline.Dockerfile")
    pins = read_pins(text)
    assert summary(pins) == [
        ("x86_64", "inline", "py39", "23.1.0-1", "5dc619ba"),
        ("aarch64", "inline", "py39", "23.1.0-1", "5e67416a"),
    ]
    assert all(spans_hold_values(text, p) for p in pins)


def test_reads_wget_with_echo_sha256sum_check() -> None:
    text = (
        "FROM ubuntu:22.04\n"
        f"RUN wget -q {URL} -O /tmp/m.sh && \\\n"
        f'    echo "{SHA}  /tmp/m.sh" | sha256sum --check && bash /tmp/m.sh -b\n'
    )
    (pin,) = read_pins(text)
    assert (pin.format, pin.url, pin.sha256, pin.line) == (PinFormat.INLINE, URL, SHA, 2)


@pytest.mark.parametrize("quote", ['"', "'", ""])
@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_quoting_and_line_endings(quote: str, newline: str) -> None:
    text = newline.join(
        [
            "# renovate: datasource=custom.miniconda_installer",
            f"ARG INSTALLER_URL_LINUX64={quote}{URL}{quote}",
            f"ARG SHA256SUM_LINUX64={quote}{SHA}{quote}",
            "",
        ]
    )
    (pin,) = read_pins(text)
    assert (pin.url, pin.sha256) == (URL, SHA)
    assert spans_hold_values(text, pin)
    assert "".join(text[s.start : s.end] for s in pin.block) == text


def test_image_digests_and_comments_are_not_pins() -> None:
    text = (
        f"FROM debian@sha256:{SHA}\n"
        f"# was: wget {URL.replace('23.5.1', '23.3.1')}\n"
        f"RUN wget {URL} && echo {SHA} m.sh | sha256sum -c\n"
    )
    (pin,) = read_pins(text)
    assert pin.line == 3


def test_no_pins_in_an_unrelated_dockerfile() -> None:
    text = "FROM python:3.12\nRUN pip install conda-lock  # https://conda.org/anaconda\n"
    assert read_pins(text) == ()


def arg_pair(url: str = URL, sha: str = SHA, suffix: str = "LINUX64") -> str:
    return f'FROM x\nARG INSTALLER_URL_{suffix}="{url}"\nARG SHA256SUM_{suffix}="{sha}"\n'


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (arg_pair(url=URL.replace("repo.anaconda.com", "repo.anaconda.com.evil.example")), "is not on https://repo.anaconda.com"),
        (arg_pair(url=URL.replace("https://", "http://")), "is not on https://repo.anaconda.com"),
        (arg_pair(url=URL.replace("/miniconda/", "/miniconda/../x/")), "is not on"),
        (arg_pair(url=URL.replace("/miniconda/", "/archive/")), "belongs under /miniconda/"),
        (arg_pair(url=URL + "$(curl evil)"), "is not a versioned installer filename"),
        (arg_pair(url=URL.replace("Miniconda3-py311_23.5.1-0", "Miniconda3-latest")), "is not a versioned installer"),
        (arg_pair(url=URL.replace("Linux-x86_64.sh", "MacOSX-x86_64.sh")), "is not a Linux installer"),
        (arg_pair(url="${BASE}/Miniconda3-py311_23.5.1-0-Linux-x86_64.sh"), "is not on"),
        (arg_pair(sha=SHA.upper()), "is not 64 lowercase hex"),
        (arg_pair(sha=SHA[:-1]), "is not 64 lowercase hex"),
        (arg_pair(sha=""), "is not 64 lowercase hex"),
        (arg_pair(suffix="AARCH64"), "names a x86_64 installer, not aarch64"),
        (arg_pair(suffix="RISCV64"), "unknown ARG suffix 'RISCV64'"),
        (arg_pair().replace("ARG SHA256SUM_LINUX64", "ARG OTHER"), "must both be set"),
        (arg_pair() + arg_pair().replace("FROM x\n", ""), "INSTALLER_URL_LINUX64 is set twice"),
    ],
)  # fmt: skip
def test_hostile_or_invalid_arg_pairs_name_file_and_line(text: str, message: str) -> None:
    with pytest.raises(DockerfileError, match=message) as caught:
        read_pins(text, "images/debian/Dockerfile")
    assert caught.value.what.startswith("images/debian/Dockerfile:")
    assert caught.value.what.split(":")[1] in ("2", "3", "4")
    assert caught.value.exit_code == 6


@pytest.mark.parametrize(
    ("text", "message", "line"),
    [
        (f"FROM x\nRUN wget {URL}\n", "no sha256 within 4 lines", 2),
        (f"RUN wget {URL}\n\n\n\n\n\necho {SHA}\n", "no sha256 within 4 lines", 1),
        (f"RUN wget {URL} && echo {SHA} {SHA.replace('3', '4')}\n", "several sha256 values", 1),
        (f"RUN wget https://example.com/x/Miniconda3-py311_23.5.1-0-Linux-x86_64.sh\necho {SHA}\n", "is not on", 1),
        (f"RUN wget {URL}\necho {SHA}\nRUN wget {URL}\necho {SHA}\n", "a second x86_64 installer pin", 3),
        (f"RUN wget {URL.replace('23.5.1-0', '${V}')}\necho {SHA}\n", r"uses \$\{V\} but no ARG/ENV V", 1),
        (f"ARG V=1\nRUN wget {URL.replace('23.5.1-0', '${V}').replace('x86_64', '$A')}\necho {SHA}\n", "more than one variable", 2),
        (f"ARG V=evil;rm\nRUN wget {URL.replace('py311_23.5.1-0', '${V}')}\necho {SHA}\n", "is not a versioned installer", 2),
    ],
)  # fmt: skip
def test_invalid_inline_pins_name_file_and_line(text: str, message: str, line: int) -> None:
    with pytest.raises(DockerfileError, match=message) as caught:
        read_pins(text, "Dockerfile")
    assert caught.value.what.startswith(f"Dockerfile:{line}:")


def test_env_default_feeds_a_templated_url() -> None:
    text = f"ENV CONDA_VERSION py311_23.5.1-0\nRUN wget {URL.replace('py311_23.5.1-0', '$CONDA_VERSION')}\n# {SHA}\necho {SHA}\n"
    (pin,) = read_pins(text)
    assert (pin.url, pin.format, pin.line) == (URL, PinFormat.TEMPLATED, 2)
    assert text[pin.url_span.start : pin.url_span.end] == "py311_23.5.1-0"


def test_templated_pin_refuses_a_url_that_does_not_fit() -> None:
    (pin,) = read_pins(golden("miniconda3-templated.Dockerfile").split("elif")[0] + "fi\n")
    anaconda = "https://repo.anaconda.com/archive/Anaconda3-2024.10-1-Linux-x86_64.sh"
    with pytest.raises(DockerfileError, match="does not fit the URL template"):
        pin.value_for(anaconda)


def test_inline_repeats_of_the_url_and_filename_belong_to_the_pin() -> None:
    text = (
        f"RUN wget -q {URL} && \\\n"
        f'    echo "{SHA}  Miniconda3-py311_23.5.1-0-Linux-x86_64.sh" | sha256sum -c\n'
        f'LABEL installer="{URL}"\n'
        "# Miniconda3-py311_23.5.1-0-Linux-x86_64.sh in a comment stays\n"
    )
    (pin,) = read_pins(text)
    assert [text[s.start : s.end] for s in pin.url_repeats] == [URL]
    assert [text[s.start : s.end] for s in pin.file_repeats] == [URL.rsplit("/", 1)[-1]]
    assert pin.line == 1
