"""Where each downloadable dataset lives and how to recognise its files: the one checksum table.

Every SHA-256 below is the one TensorFlow Datasets records for the same URL
(``tensorflow_datasets/url_checksums/{mnist,fashion_mnist,cifar10,cifar100}.txt``), with the
byte size it records.  The MD5 next to it is the one published by the dataset's authors (the
Fashion-MNIST README, the CIFAR page https://www.cs.toronto.edu/~kriz/cifar.html); the MNIST
page publishes none, so its MD5s are torchvision's.  Downloads are verified against SHA-256;
the MD5 is kept so a user can cross-check a copy obtained elsewhere.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["RemoteFile", "DatasetSource", "SOURCES"]


@dataclass(frozen=True)
class RemoteFile:
    """One file of a dataset as its canonical source serves it.

    Attributes:
        name: File name on the server and in the cache, e.g. ``'train-images-idx3-ubyte.gz'``.
        size: Size in bytes of the file as served.
        sha256: Hex SHA-256 of the file as served; downloads must match it.
        md5: Hex MD5 as published (for cross-reference only, never the sole check).
        local_names: Other names accepted for a local copy (decompressed or extracted forms).
    """

    name: str
    size: int
    sha256: str
    md5: str
    local_names: tuple[str, ...] = ()


@dataclass(frozen=True)
class DatasetSource:
    """A downloadable dataset: its folder name, mirrors and files.

    Attributes:
        key: Folder name used in every search directory, the cache and a mirror.
        title: Human name for messages.
        base_urls: Mirrors tried in order; a file's URL is ``base_url + file.name``.
        files: The files that make up the dataset.
        debian_package: Debian/Ubuntu package that installs the files, if any.
    """

    key: str
    title: str
    base_urls: tuple[str, ...]
    files: tuple[RemoteFile, ...]
    debian_package: str | None = None


def _gz(name: str, size: int, sha256: str, md5: str) -> RemoteFile:
    """Describe a gzipped IDX file that may also be found decompressed locally."""
    return RemoteFile(name, size, sha256, md5, local_names=(name.removesuffix(".gz"),))


_MNIST = DatasetSource(
    key="mnist",
    title="MNIST",
    # Google's Cloud Storage copy of the IDX files (used by TensorFlow and TFDS).
    base_urls=("https://storage.googleapis.com/cvdf-datasets/mnist/",),
    files=(
        _gz(
            "train-images-idx3-ubyte.gz",
            9912422,
            "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
            "f68b3c2dcbeaaa9fbdd348bbdeb94873",
        ),
        _gz(
            "train-labels-idx1-ubyte.gz",
            28881,
            "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
            "d53e105ee54ea40749a09fcbcd1e9432",
        ),
        _gz(
            "t10k-images-idx3-ubyte.gz",
            1648877,
            "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
            "9fb629c4189551a2d022fa330f9573f3",
        ),
        _gz(
            "t10k-labels-idx1-ubyte.gz",
            4542,
            "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
            "ec29112dd5afa0611ce80d1b7f02629c",
        ),
    ),
)

_FASHION_MNIST = DatasetSource(
    key="fashion-mnist",
    title="Fashion-MNIST",
    base_urls=(
        "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
        # Zalando's S3 website endpoint serves plain HTTP only; the SHA-256 check still holds.
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
    ),
    files=(
        _gz(
            "train-images-idx3-ubyte.gz",
            26421880,
            "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
            "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
        ),
        _gz(
            "train-labels-idx1-ubyte.gz",
            29515,
            "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
            "25c81989df183df01b3e8a0aad5dffbe",
        ),
        _gz(
            "t10k-images-idx3-ubyte.gz",
            4422102,
            "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
            "bef4ecab320f06d8554ea6380940ec79",
        ),
        _gz(
            "t10k-labels-idx1-ubyte.gz",
            5148,
            "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
            "bb300cfdad3c16e7a12a480ee83cd310",
        ),
    ),
    debian_package="dataset-fashion-mnist",
)

_CIFAR10 = DatasetSource(
    key="cifar-10",
    title="CIFAR-10",
    base_urls=("https://www.cs.toronto.edu/~kriz/",),
    files=(
        RemoteFile(
            "cifar-10-binary.tar.gz",
            170052171,
            "c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd",
            "c32a1d4ab5d03f1284b67883e8d87530",
            local_names=("cifar-10-binary.tar", "cifar-10-batches-bin"),
        ),
    ),
)

_CIFAR100 = DatasetSource(
    key="cifar-100",
    title="CIFAR-100",
    base_urls=("https://www.cs.toronto.edu/~kriz/",),
    files=(
        RemoteFile(
            "cifar-100-binary.tar.gz",
            168513733,
            "58a81ae192c23a4be8b1804d68e518ed807d710a4eb253b1f2a199162a40d8ec",
            "03b5dce01913d631647c71ecec9e9cb8",
            local_names=("cifar-100-binary.tar", "cifar-100-binary"),
        ),
    ),
)

#: Every downloadable dataset by key.  Looked up at call time, so tests may substitute entries.
SOURCES: dict[str, DatasetSource] = {
    source.key: source for source in (_MNIST, _FASHION_MNIST, _CIFAR10, _CIFAR100)
}
