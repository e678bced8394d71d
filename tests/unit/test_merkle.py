"""The audit trail's Merkle tree against RFC 6962 / 9162 vectors and a literal reading of the RFC.

Published vectors prove interoperability (a counterpart's or any CT tool's
verifier agrees with ours); the exhaustive checks against the literal recursive
definitions below prove every tree shape up to 20 leaves, where the tricky
right-edge cases live.
"""

from __future__ import annotations

import hashlib

import pytest

from crossborder.audit import merkle

# Certificate Transparency test vectors (RFC 6962 hashing, identical in RFC 9162),
# as published by transparency-dev/merkle: leaf inputs, then the root for each size.
CT_LEAVES = [
    bytes.fromhex(h)
    for h in (
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    )
]
CT_ROOTS = [
    bytes.fromhex(h)
    for h in (
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    )
]
# (leaf index, tree size, audit path) — the published index is 1-based; these are 0-based.
CT_INCLUSION = [
    (
        0,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        5,
        8,
        [
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (
        1,
        5,
        [
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
]
# (old size, new size, consistency proof)
CT_CONSISTENCY = [
    (
        1,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        5,
        [
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
    (
        6,
        7,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
]

MAX_SIZE = 20
LEAF_HASHES = [hashlib.sha256(b"\x00" + f"entry {i}".encode()).digest() for i in range(MAX_SIZE)]


# --- RFC 9162 §2.1, read literally: recursive, slicing, rehashing everything. ---


def _split(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def _ref_node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _ref_mth(hashes: list[bytes]) -> bytes:
    if not hashes:
        return hashlib.sha256(b"").digest()
    if len(hashes) == 1:
        return hashes[0]
    k = _split(len(hashes))
    return _ref_node(_ref_mth(hashes[:k]), _ref_mth(hashes[k:]))


def _ref_path(m: int, hashes: list[bytes]) -> list[bytes]:
    if len(hashes) == 1:
        return []
    k = _split(len(hashes))
    if m < k:
        return _ref_path(m, hashes[:k]) + [_ref_mth(hashes[k:])]
    return _ref_path(m - k, hashes[k:]) + [_ref_mth(hashes[:k])]


def _ref_subproof(m: int, hashes: list[bytes], complete: bool) -> list[bytes]:
    if m == len(hashes):
        return [] if complete else [_ref_mth(hashes)]
    k = _split(len(hashes))
    if m <= k:
        return _ref_subproof(m, hashes[:k], complete) + [_ref_mth(hashes[k:])]
    return _ref_subproof(m - k, hashes[k:], False) + [_ref_mth(hashes[:k])]


def _hexes(values: list[str]) -> list[bytes]:
    return [bytes.fromhex(v) for v in values]


def _flip_bit(value: bytes) -> bytes:
    return bytes([value[0] ^ 0x10]) + value[1:]


# --- published vectors ---


def test_leaf_and_node_hashes_use_the_rfc_prefixes() -> None:
    assert merkle.leaf_hash(b"") == CT_ROOTS[1]
    assert merkle.node_hash(merkle.leaf_hash(b""), merkle.leaf_hash(b"\x00")) == CT_ROOTS[2]


@pytest.mark.parametrize("size", range(len(CT_ROOTS)))
def test_root_matches_the_published_tree_heads(size: int) -> None:
    leaves = [merkle.leaf_hash(data) for data in CT_LEAVES[:size]]

    assert merkle.root(leaves) == CT_ROOTS[size]


@pytest.mark.parametrize(("index", "size", "path"), CT_INCLUSION)
def test_inclusion_proof_matches_the_published_paths(
    index: int, size: int, path: list[str]
) -> None:
    leaves = [merkle.leaf_hash(data) for data in CT_LEAVES[:size]]

    assert merkle.inclusion_proof(leaves, index) == _hexes(path)
    assert merkle.verify_inclusion(leaves[index], index, size, _hexes(path), CT_ROOTS[size])


@pytest.mark.parametrize(("old", "new", "proof"), CT_CONSISTENCY)
def test_consistency_proof_matches_the_published_proofs(
    old: int, new: int, proof: list[str]
) -> None:
    leaves = [merkle.leaf_hash(data) for data in CT_LEAVES[:new]]

    assert merkle.consistency_proof(leaves, old) == _hexes(proof)
    assert merkle.verify_consistency(old, new, CT_ROOTS[old], CT_ROOTS[new], _hexes(proof))


# --- every shape up to MAX_SIZE, against the literal RFC ---


@pytest.mark.parametrize("size", range(MAX_SIZE + 1))
def test_root_agrees_with_the_literal_definition(size: int) -> None:
    assert merkle.root(LEAF_HASHES[:size]) == _ref_mth(LEAF_HASHES[:size])


@pytest.mark.parametrize("size", range(1, MAX_SIZE + 1))
def test_every_leaf_proves_its_inclusion_in_every_size(size: int) -> None:
    leaves = LEAF_HASHES[:size]
    tree_root = merkle.root(leaves)
    for index in range(size):
        proof = merkle.inclusion_proof(leaves, index)

        assert proof == _ref_path(index, leaves)
        assert merkle.verify_inclusion(leaves[index], index, size, proof, tree_root)


@pytest.mark.parametrize("new", range(1, MAX_SIZE + 1))
def test_every_earlier_size_proves_consistency_with_every_later_one(new: int) -> None:
    leaves = LEAF_HASHES[:new]
    new_root = merkle.root(leaves)
    for old in range(1, new + 1):
        proof = merkle.consistency_proof(leaves, old)

        assert proof == _ref_subproof(old, leaves, True)
        assert merkle.verify_consistency(old, new, merkle.root(leaves[:old]), new_root, proof)


# --- tampering ---


@pytest.mark.parametrize("size", range(1, MAX_SIZE + 1))
def test_a_tampered_inclusion_claim_fails(size: int) -> None:
    leaves = LEAF_HASHES[:size]
    tree_root = merkle.root(leaves)
    for index in range(size):
        proof = merkle.inclusion_proof(leaves, index)
        leaf = leaves[index]

        assert not merkle.verify_inclusion(_flip_bit(leaf), index, size, proof, tree_root)
        for other in range(size):
            if other != index:
                assert not merkle.verify_inclusion(leaf, other, size, proof, tree_root)
        assert not merkle.verify_inclusion(leaf, index, size, proof, merkle.root(leaves[:-1]))
        assert not merkle.verify_inclusion(leaf, index, size, [*proof, tree_root], tree_root)
        assert not merkle.verify_inclusion(leaf, index, size, [tree_root, *proof], tree_root)
        if proof:
            assert not merkle.verify_inclusion(leaf, index, size, proof[:-1], tree_root)
        for position in range(len(proof)):
            tampered = [*proof]
            tampered[position] = _flip_bit(tampered[position])
            assert not merkle.verify_inclusion(leaf, index, size, tampered, tree_root)


@pytest.mark.parametrize("new", range(2, MAX_SIZE + 1))
def test_a_tampered_consistency_claim_fails(new: int) -> None:
    leaves = LEAF_HASHES[:new]
    new_root = merkle.root(leaves)
    for old in range(1, new):
        proof = merkle.consistency_proof(leaves, old)
        old_root = merkle.root(leaves[:old])
        rewritten_root = merkle.root([_flip_bit(leaves[0]), *leaves[1:old]])

        assert not merkle.verify_consistency(old, new, new_root, old_root, proof)
        assert not merkle.verify_consistency(old, new, rewritten_root, new_root, proof)
        assert not merkle.verify_consistency(old, new, old_root, new_root, proof[:-1])
        assert not merkle.verify_consistency(old, new, old_root, new_root, [*proof, new_root])
        assert not merkle.verify_consistency(old, new, old_root, new_root, [old_root, *proof])
        assert not merkle.verify_consistency(old, new, old_root, new_root, [])
        for wrong_old in (old - 1, old + 1):
            if 0 < wrong_old < new:
                assert not merkle.verify_consistency(wrong_old, new, old_root, new_root, proof)
        for position in range(len(proof)):
            tampered = [*proof]
            tampered[position] = _flip_bit(tampered[position])
            assert not merkle.verify_consistency(old, new, old_root, new_root, tampered)


def test_a_log_that_rewrote_an_old_entry_cannot_prove_it_extends_the_old_checkpoint() -> None:
    original = LEAF_HASHES[:7]
    rewritten = [
        *original[:3],
        merkle.leaf_hash(b"a different entry"),
        *original[4:],
        *LEAF_HASHES[7:12],
    ]
    proof = merkle.consistency_proof(rewritten, 7)

    assert not merkle.verify_consistency(
        7, 12, merkle.root(original), merkle.root(rewritten), proof
    )


# --- edges ---


def test_the_empty_log_is_a_prefix_of_every_log_but_only_with_the_empty_root() -> None:
    new_root = merkle.root(LEAF_HASHES[:5])

    assert merkle.consistency_proof(LEAF_HASHES[:5], 0) == []
    assert merkle.verify_consistency(0, 5, merkle.EMPTY_ROOT, new_root, [])
    assert not merkle.verify_consistency(0, 5, new_root, new_root, [])
    assert not merkle.verify_consistency(0, 5, merkle.EMPTY_ROOT, new_root, [new_root])


def test_a_log_is_consistent_with_itself_only_under_the_same_root() -> None:
    same_root = merkle.root(LEAF_HASHES[:4])

    assert merkle.verify_consistency(4, 4, same_root, same_root, [])
    assert not merkle.verify_consistency(4, 4, same_root, merkle.root(LEAF_HASHES[:3]), [])
    assert not merkle.verify_consistency(4, 4, same_root, same_root, [same_root])


def test_a_log_cannot_shrink() -> None:
    assert not merkle.verify_consistency(5, 4, merkle.EMPTY_ROOT, merkle.EMPTY_ROOT, [])


def test_an_index_outside_the_tree_never_verifies() -> None:
    one = LEAF_HASHES[0]

    assert merkle.verify_inclusion(one, 0, 1, [], one)
    assert not merkle.verify_inclusion(one, 1, 1, [], one)
    assert not merkle.verify_inclusion(one, -1, 1, [], one)
    assert not merkle.verify_inclusion(one, 0, 0, [], merkle.EMPTY_ROOT)


def test_values_that_are_not_sha256_digests_never_verify() -> None:
    assert not merkle.verify_inclusion(b"", 0, 1, [], b"")
    assert not merkle.verify_consistency(1, 1, b"short", b"short", [])


@pytest.mark.parametrize("index", [-1, 3])
def test_proving_an_index_outside_the_tree_is_refused(index: int) -> None:
    with pytest.raises(ValueError, match="outside"):
        merkle.inclusion_proof(LEAF_HASHES[:3], index)


@pytest.mark.parametrize("old_size", [-1, 4])
def test_proving_consistency_with_a_size_outside_the_tree_is_refused(old_size: int) -> None:
    with pytest.raises(ValueError, match="outside"):
        merkle.consistency_proof(LEAF_HASHES[:3], old_size)


def test_proofs_on_a_large_log_stay_short_and_verify() -> None:
    # Large enough that rehashing the whole tree per proof step would be felt;
    # the proof length is the tree height, whatever the log size.
    leaves = [merkle.leaf_hash(i.to_bytes(4, "big")) for i in range(100_003)]
    tree_root = merkle.root(leaves)

    for index in (0, 65_535, 65_536, 100_002):
        proof = merkle.inclusion_proof(leaves, index)
        assert len(proof) <= 17
        assert merkle.verify_inclusion(leaves[index], index, len(leaves), proof, tree_root)
    consistency = merkle.consistency_proof(leaves, 70_001)
    assert merkle.verify_consistency(
        70_001, len(leaves), merkle.root(leaves[:70_001]), tree_root, consistency
    )
