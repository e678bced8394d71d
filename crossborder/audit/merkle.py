"""RFC 9162 Merkle tree: the tamper evidence of the audit trail.

Each audit entry is a leaf; a signed checkpoint (tree size, root hash) sent to
the counterpart commits this node to the whole log. With the proofs below an
auditor on either side checks that an entry is in the log (inclusion) and that a
later log only appends to an earlier one (consistency), without trusting the
database that served them.

The hashing is exactly RFC 9162 §2.1 (the same as RFC 6962), so any Certificate
Transparency tool can check our proofs: SHA-256, leaves prefixed with ``0x00``,
interior nodes with ``0x01``, a tree of ``n`` leaves split at the largest power of
two smaller than ``n``, and the empty tree hashing to SHA-256 of nothing.

Functions take *leaf hashes*, not entries, so the database keeps one 32-byte
hash per entry and never re-reads entry bodies to build a proof. A proof costs
one pass over the leaf hashes to build the complete subtrees (O(n)), then
O(log n) to read the proof off them; verification is O(log n).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()

_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"


def leaf_hash(data: bytes) -> bytes:
    """The hash of one log entry: SHA-256(0x00 || data)."""
    return hashlib.sha256(_LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """The hash of an interior node: SHA-256(0x01 || left || right)."""
    return hashlib.sha256(_NODE_PREFIX + left + right).digest()


def root(leaves: Sequence[bytes]) -> bytes:
    """Merkle Tree Hash of a log whose entries have the given leaf hashes (§2.1.1)."""
    if not leaves:
        return EMPTY_ROOT
    return _Subtrees(leaves).hash(0, len(leaves))


def inclusion_proof(leaf_hashes: Sequence[bytes], index: int) -> list[bytes]:
    """The audit path of entry ``index`` in the tree of all ``leaf_hashes`` (§2.1.3.1).

    Ordered from the leaf's sibling up to the root's child, as the RFC lists it.
    """
    size = len(leaf_hashes)
    if not 0 <= index < size:
        raise ValueError(f"leaf index {index} is outside a tree of size {size}")
    subtrees = _Subtrees(leaf_hashes)
    path: list[bytes] = []
    start, end = 0, size
    while end - start > 1:
        split = start + _largest_power_of_two_below(end - start)
        if index < split:
            path.append(subtrees.hash(split, end))
            end = split
        else:
            path.append(subtrees.hash(start, split))
            start = split
    path.reverse()
    return path


def consistency_proof(leaf_hashes: Sequence[bytes], old_size: int) -> list[bytes]:
    """Proof that the first ``old_size`` entries are a prefix of all ``leaf_hashes`` (§2.1.4.1).

    Empty when ``old_size`` is 0 or the whole tree: nothing needs proving then.
    """
    new_size = len(leaf_hashes)
    if not 0 <= old_size <= new_size:
        raise ValueError(f"old size {old_size} is outside 0..{new_size}")
    if old_size in (0, new_size):
        return []
    subtrees = _Subtrees(leaf_hashes)
    proof: list[bytes] = []
    # SUBPROOF(m, D[start:end], complete) unrolled: each step descends into one
    # half and records the other half's hash; the recursion only ever goes down.
    start, end, complete = 0, new_size, True
    boundary = old_size
    while boundary != end:
        split = start + _largest_power_of_two_below(end - start)
        if boundary <= split:
            proof.append(subtrees.hash(split, end))
            end = split
        else:
            proof.append(subtrees.hash(start, split))
            start, complete = split, False
    if not complete:
        proof.append(subtrees.hash(start, end))
    proof.reverse()
    return proof


def verify_inclusion(
    leaf_hash: bytes, index: int, tree_size: int, proof: Sequence[bytes], root: bytes
) -> bool:
    """Whether ``proof`` shows the leaf at ``index`` is in the tree with ``root`` (§2.1.3.2)."""
    if not 0 <= index < tree_size or not _are_hashes(leaf_hash, root, *proof):
        return False
    fn, sn, r = index, tree_size - 1, leaf_hash
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and r == root


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    """Whether ``proof`` shows the tree ``new_root`` extends the tree ``old_root`` (§2.1.4.2).

    The RFC leaves ``old_size`` 0 undefined; here an empty log is a prefix of
    every log, but only if the root claimed for it is the empty-tree hash, so a
    checkpoint of size 0 with any other root is refused.
    """
    if not 0 <= old_size <= new_size or not _are_hashes(old_root, new_root, *proof):
        return False
    if old_size == 0:
        return not proof and old_root == EMPTY_ROOT
    if old_size == new_size:
        return not proof and old_root == new_root
    if not proof:
        return False
    path = list(proof)
    if old_size & (old_size - 1) == 0:
        # The old tree is a complete subtree of the new one: its root starts the path.
        path.insert(0, old_root)
    roots = _roots_from_consistency_path(old_size, new_size, path)
    return roots == (old_root, new_root)


def _roots_from_consistency_path(
    old_size: int, new_size: int, path: Sequence[bytes]
) -> tuple[bytes, bytes] | None:
    """Steps 3–7 of §2.1.4.2: both roots rebuilt from one path, or None if it does not fit."""
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return None
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return (fr, sr) if sn == 0 else None


class _Subtrees:
    """Hashes of every complete (power-of-two, aligned) subtree, built bottom-up once.

    ``levels[h][i]`` is the root of the 2**h leaves starting at ``i * 2**h``. Any
    subtree the RFC recursion names is one complete subtree on the left plus, on
    the right edge, a chain of at most log n complete ones, so :meth:`hash` is
    O(log n) and never rehashes leaves.
    """

    def __init__(self, leaf_hashes: Sequence[bytes]) -> None:
        self.levels: list[Sequence[bytes]] = [leaf_hashes]
        level = leaf_hashes
        while len(level) > 1:
            level = [node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
            self.levels.append(level)

    def hash(self, start: int, end: int) -> bytes:
        """MTH(D[start:end]) for a range the RFC split produces (``start`` aligned)."""
        size = end - start
        if size & (size - 1) == 0:
            height = size.bit_length() - 1
            return self.levels[height][start >> height]
        split = start + _largest_power_of_two_below(size)
        return node_hash(self.hash(start, split), self.hash(split, end))


def _largest_power_of_two_below(n: int) -> int:
    """The RFC's split point k: the largest power of two strictly smaller than n (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def _are_hashes(*values: bytes) -> bool:
    """Refuse anything that is not a SHA-256 digest before it reaches a comparison."""
    return all(len(value) == HASH_SIZE for value in values)
