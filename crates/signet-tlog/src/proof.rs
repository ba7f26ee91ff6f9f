//! Inclusion and consistency proofs (RFC 9162 §2.1.3 and §2.1.4): produce
//! them from a [`HashSource`], verify them against tree heads.
//!
//! Producing a proof is split in two so that async storage fits: the
//! `*_nodes` functions say which complete subtrees a proof needs (fetch them
//! in one batch, or fetch the tiles that hold them), and `prove_*` folds
//! them into the proof. Each proof element is the hash of a range of leaves,
//! folded from the complete subtrees that cover it.

use crate::error::TlogError;
use crate::hash::Hash;
use crate::tree::{HashSource, NodeId, fold_right, range_nodes};

/// Most hashes an inclusion or consistency proof can have in a tree of at
/// most 2^64 leaves (one per level, plus one for a consistency proof).
pub const MAX_PROOF_HASHES: usize = 65;

fn largest_power_of_two_below(n: u64) -> u64 {
    // n >= 2 here: the largest power of two strictly smaller than n.
    1u64 << (63 - (n - 1).leading_zeros())
}

/// The complete subtrees behind each element of the inclusion proof for leaf
/// `index` in a tree of `tree_size` leaves, leaf to root.
pub fn inclusion_proof_nodes(index: u64, tree_size: u64) -> Result<Vec<Vec<NodeId>>, TlogError> {
    if index >= tree_size {
        return Err(TlogError::Misuse(format!(
            "no inclusion proof for entry {index}: the tree has {tree_size} entries"
        )));
    }
    // PATH(m, D[lo:hi]), unrolled from the root down; elements collected
    // root first and reversed at the end.
    let (mut lo, mut hi) = (0u64, tree_size);
    let mut elements = Vec::new();
    while hi - lo > 1 {
        let k = largest_power_of_two_below(hi - lo);
        if index - lo < k {
            elements.push(range_nodes(lo + k, hi));
            hi = lo + k;
        } else {
            elements.push(range_nodes(lo, lo + k));
            lo += k;
        }
    }
    elements.reverse();
    Ok(elements)
}

/// The complete subtrees behind each element of the consistency proof from
/// `old_size` to `new_size`. Empty when the sizes are equal or `old_size` is 0.
pub fn consistency_proof_nodes(
    old_size: u64,
    new_size: u64,
) -> Result<Vec<Vec<NodeId>>, TlogError> {
    if old_size > new_size {
        return Err(TlogError::Misuse(format!(
            "no consistency proof from tree size {old_size} to the smaller size {new_size}"
        )));
    }
    if old_size == 0 || old_size == new_size {
        return Ok(Vec::new());
    }
    // SUBPROOF(m, D[lo:hi], b), unrolled; elements collected root first.
    let (mut m, mut lo, mut hi, mut whole) = (old_size, 0u64, new_size, true);
    let mut elements = Vec::new();
    loop {
        let n = hi - lo;
        if m == n {
            if !whole {
                elements.push(range_nodes(lo, hi));
            }
            break;
        }
        let k = largest_power_of_two_below(n);
        if m <= k {
            elements.push(range_nodes(lo + k, hi));
            hi = lo + k;
        } else {
            elements.push(range_nodes(lo, lo + k));
            m -= k;
            lo += k;
            whole = false;
        }
    }
    elements.reverse();
    Ok(elements)
}

fn fold_elements(
    source: &impl HashSource,
    elements: Vec<Vec<NodeId>>,
) -> Result<Vec<Hash>, TlogError> {
    elements
        .into_iter()
        .map(|nodes| {
            let hashes = nodes
                .into_iter()
                .map(|n| source.node_hash(n))
                .collect::<Result<Vec<_>, _>>()?;
            fold_right(&hashes).ok_or_else(|| TlogError::Misuse("empty proof element".into()))
        })
        .collect()
}

/// The inclusion proof for leaf `index` in a tree of `tree_size` leaves.
pub fn prove_inclusion(
    source: &impl HashSource,
    index: u64,
    tree_size: u64,
) -> Result<Vec<Hash>, TlogError> {
    fold_elements(source, inclusion_proof_nodes(index, tree_size)?)
}

/// The consistency proof from `old_size` to `new_size`.
pub fn prove_consistency(
    source: &impl HashSource,
    old_size: u64,
    new_size: u64,
) -> Result<Vec<Hash>, TlogError> {
    fold_elements(source, consistency_proof_nodes(old_size, new_size)?)
}

/// The root an inclusion proof leads to (RFC 9162 §2.1.3.2).
pub fn root_from_inclusion_proof(
    leaf: &Hash,
    index: u64,
    tree_size: u64,
    proof: &[Hash],
) -> Result<Hash, TlogError> {
    let fail = |reason: String| TlogError::InclusionProof {
        index,
        tree_size,
        reason,
    };
    if index >= tree_size {
        return Err(fail(format!("index {index} is not below the tree size")));
    }
    let (mut fn_, mut sn) = (index, tree_size - 1);
    let mut r = *leaf;
    for p in proof {
        if sn == 0 {
            return Err(fail(format!(
                "proof has {} hashes, more than the tree needs",
                proof.len()
            )));
        }
        if fn_ & 1 == 1 || fn_ == sn {
            r = crate::hash::node_hash(p, &r);
            while fn_ & 1 == 0 && fn_ != 0 {
                fn_ >>= 1;
                sn >>= 1;
            }
        } else {
            r = crate::hash::node_hash(&r, p);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    if sn != 0 {
        return Err(fail(format!(
            "proof has {} hashes, fewer than the tree needs",
            proof.len()
        )));
    }
    Ok(r)
}

/// Checks that leaf `leaf` is entry `index` of the tree of `tree_size`
/// leaves whose root is `root`.
pub fn verify_inclusion(
    leaf: &Hash,
    index: u64,
    tree_size: u64,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), TlogError> {
    let computed = root_from_inclusion_proof(leaf, index, tree_size, proof)?;
    if computed != *root {
        return Err(TlogError::InclusionProof {
            index,
            tree_size,
            reason: format!("computed root {computed} differs from the expected root {root}"),
        });
    }
    Ok(())
}

/// Checks that the tree of `new_size` leaves with root `new_root` extends the
/// tree of `old_size` leaves with root `old_root` (RFC 9162 §2.1.4.2).
pub fn verify_consistency(
    old_size: u64,
    new_size: u64,
    old_root: &Hash,
    new_root: &Hash,
    proof: &[Hash],
) -> Result<(), TlogError> {
    let fail = |reason: String| TlogError::ConsistencyProof {
        old_size,
        new_size,
        reason,
    };
    if old_size > new_size {
        return Err(fail("the old tree is larger than the new one".into()));
    }
    if old_size == new_size {
        if !proof.is_empty() {
            return Err(fail(format!(
                "expected an empty proof for equal sizes, got {} hashes",
                proof.len()
            )));
        }
        if old_root != new_root {
            return Err(fail(format!(
                "equal sizes with different roots {old_root} and {new_root}"
            )));
        }
        return Ok(());
    }
    if old_size == 0 {
        // Every tree extends the empty tree; there is nothing to prove.
        if !proof.is_empty() {
            return Err(fail(format!(
                "expected an empty proof from the empty tree, got {} hashes",
                proof.len()
            )));
        }
        return Ok(());
    }
    if proof.len() > MAX_PROOF_HASHES {
        return Err(fail(format!(
            "proof has {} hashes, more than any tree needs",
            proof.len()
        )));
    }
    let mut path: Vec<Hash> = Vec::with_capacity(proof.len() + 1);
    if old_size.is_power_of_two() {
        path.push(*old_root);
    }
    path.extend_from_slice(proof);
    let Some((first, rest)) = path.split_first() else {
        return Err(fail("proof is empty".into()));
    };
    let (mut fn_, mut sn) = (old_size - 1, new_size - 1);
    while fn_ & 1 == 1 {
        fn_ >>= 1;
        sn >>= 1;
    }
    let (mut fr, mut sr) = (*first, *first);
    for c in rest {
        if sn == 0 {
            return Err(fail(format!(
                "proof has {} hashes, more than the trees need",
                proof.len()
            )));
        }
        if fn_ & 1 == 1 || fn_ == sn {
            fr = crate::hash::node_hash(c, &fr);
            sr = crate::hash::node_hash(c, &sr);
            while fn_ & 1 == 0 && fn_ != 0 {
                fn_ >>= 1;
                sn >>= 1;
            }
        } else {
            sr = crate::hash::node_hash(&sr, c);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    if sn != 0 {
        return Err(fail(format!(
            "proof has {} hashes, fewer than the trees need",
            proof.len()
        )));
    }
    if fr != *old_root {
        return Err(fail(format!(
            "computed old root {fr} differs from the expected {old_root}"
        )));
    }
    if sr != *new_root {
        return Err(fail(format!(
            "computed new root {sr} differs from the expected {new_root}"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::{empty_root, leaf_hash};
    use crate::tree::{MemoryTree, root_hash};
    use proptest::prelude::*;

    fn h(hex: &str) -> Hash {
        Hash::from_hex(hex).unwrap()
    }

    /// The RFC 6962 reference leaves (certificate-transparency test data,
    /// also transparency-dev/merkle testonly/constants.go).
    fn reference_tree(size: usize) -> MemoryTree {
        let leaves: [&[u8]; 8] = [
            b"",
            b"\x00",
            b"\x10",
            b"\x20\x21",
            b"\x30\x31",
            b"\x40\x41\x42\x43",
            b"\x50\x51\x52\x53\x54\x55\x56\x57",
            b"\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f",
        ];
        let mut tree = MemoryTree::new();
        for leaf in &leaves[..size] {
            tree.append(leaf);
        }
        tree
    }

    const ROOTS: [&str; 8] = [
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ];

    #[test]
    fn reference_roots() {
        assert_eq!(reference_tree(0).root(), empty_root());
        for (i, root) in ROOTS.iter().enumerate() {
            assert_eq!(reference_tree(i + 1).root(), h(root), "size {}", i + 1);
        }
    }

    #[test]
    fn reference_inclusion_proofs() {
        // (index, size, proof) from the reference inclusion-proof table.
        let cases: &[(u64, u64, &[&str])] = &[
            (0, 1, &[]),
            (
                0,
                2,
                &["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"],
            ),
            (
                1,
                2,
                &["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"],
            ),
            (
                2,
                3,
                &["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"],
            ),
            (
                1,
                5,
                &[
                    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
                    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                    "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                ],
            ),
            (
                0,
                8,
                &[
                    "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                    "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
                ],
            ),
            (
                5,
                8,
                &[
                    "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                    "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
                ],
            ),
        ];
        let full = reference_tree(8);
        for &(index, size, expected) in cases {
            let expected: Vec<Hash> = expected.iter().map(|x| h(x)).collect();
            let proof = prove_inclusion(&full, index, size).unwrap();
            assert_eq!(proof, expected, "index {index} size {size}");
            let leaf = full.node_hash(NodeId::new(0, index)).unwrap();
            let root = root_hash(&full, size).unwrap();
            verify_inclusion(&leaf, index, size, &proof, &root).unwrap();
        }
    }

    #[test]
    fn reference_consistency_proofs() {
        let cases: &[(u64, u64, &[&str])] = &[
            (1, 1, &[]),
            (
                1,
                8,
                &[
                    "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                    "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
                ],
            ),
            (
                6,
                8,
                &[
                    "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                    "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
                ],
            ),
            (
                2,
                5,
                &[
                    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                    "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                ],
            ),
        ];
        let full = reference_tree(8);
        for &(old, new, expected) in cases {
            let expected: Vec<Hash> = expected.iter().map(|x| h(x)).collect();
            let proof = prove_consistency(&full, old, new).unwrap();
            assert_eq!(proof, expected, "{old} -> {new}");
            let (r1, r2) = (
                root_hash(&full, old).unwrap(),
                root_hash(&full, new).unwrap(),
            );
            verify_consistency(old, new, &r1, &r2, &proof).unwrap();
        }
    }

    #[test]
    fn corrupted_inclusion_proofs_fail() {
        let full = reference_tree(8);
        let root = full.root();
        let leaf = full.node_hash(NodeId::new(5, 0)).ok();
        assert!(leaf.is_none());
        let leaf = full.node_hash(NodeId::new(0, 5)).unwrap();
        let proof = prove_inclusion(&full, 5, 8).unwrap();
        // Wrong index, size, leaf, root; trailing and missing hashes; flipped bits.
        assert!(verify_inclusion(&leaf, 4, 8, &proof, &root).is_err());
        assert!(verify_inclusion(&leaf, 6, 8, &proof, &root).is_err());
        assert!(verify_inclusion(&leaf, 5, 16, &proof, &root).is_err());
        assert!(verify_inclusion(&leaf, 5, 4, &proof, &root).is_err());
        assert!(verify_inclusion(&leaf_hash(b"WrongLeaf"), 5, 8, &proof, &root).is_err());
        assert!(verify_inclusion(&leaf, 5, 8, &proof, &empty_root()).is_err());
        let mut longer = proof.clone();
        longer.push(root);
        assert!(verify_inclusion(&leaf, 5, 8, &longer, &root).is_err());
        assert!(verify_inclusion(&leaf, 5, 8, &proof[..2], &root).is_err());
        for i in 0..proof.len() {
            let mut bad = proof.clone();
            bad[i].0[0] ^= 8;
            let err = verify_inclusion(&leaf, 5, 8, &bad, &root).unwrap_err();
            assert_eq!(err.blame(), crate::error::Blame::Untrusted);
        }
        assert!(verify_inclusion(&leaf, 0, 0, &[], &root).is_err());
        assert!(prove_inclusion(&full, 8, 8).is_err());
    }

    #[test]
    fn transparency_dev_inclusion_shapes() {
        // Node IDs of TestInclusion (transparency-dev/merkle proof_test.go),
        // flattened: each group is one proof element.
        let n = |l, i| NodeId::new(l, i);
        assert_eq!(
            inclusion_proof_nodes(0, 7).unwrap(),
            vec![vec![n(0, 1)], vec![n(1, 1)], vec![n(1, 2), n(0, 6)]]
        );
        assert_eq!(
            inclusion_proof_nodes(4, 7).unwrap(),
            vec![vec![n(0, 5)], vec![n(0, 6)], vec![n(2, 0)]]
        );
        assert_eq!(
            inclusion_proof_nodes(81, 95).unwrap(),
            vec![
                vec![n(0, 80)],
                vec![n(1, 41)],
                vec![n(2, 21)],
                vec![n(2, 22), n(1, 46), n(0, 94)],
                vec![n(4, 4)],
                vec![n(6, 0)]
            ]
        );
        assert!(inclusion_proof_nodes(8, 7).is_err());
    }

    proptest! {
        #[test]
        fn proofs_round_trip(size in 1u64..300, a in any::<u64>(), b in any::<u64>()) {
            let mut tree = MemoryTree::new();
            for i in 0..size { tree.append(&i.to_be_bytes()); }
            let index = a % size;
            let proof = prove_inclusion(&tree, index, size).unwrap();
            let leaf = tree.node_hash(NodeId::new(0, index)).unwrap();
            verify_inclusion(&leaf, index, size, &proof, &tree.root()).unwrap();
            let old = b % (size + 1);
            let cproof = prove_consistency(&tree, old, size).unwrap();
            let old_root = root_hash(&tree, old).unwrap();
            verify_consistency(old, size, &old_root, &tree.root(), &cproof).unwrap();
            if old > 0 && old < size {
                let mut bad = cproof.clone();
                bad[0].0[1] ^= 1;
                prop_assert!(verify_consistency(old, size, &old_root, &tree.root(), &bad).is_err());
            }
        }

        #[test]
        fn verifiers_never_panic(index in any::<u64>(), size in any::<u64>(), old in any::<u64>(), n in 0usize..70) {
            let proof = vec![Hash([7; 32]); n];
            let _ = verify_inclusion(&Hash([1; 32]), index, size, &proof, &Hash([2; 32]));
            let _ = verify_consistency(old, size, &Hash([1; 32]), &Hash([2; 32]), &proof);
            let _ = inclusion_proof_nodes(index, size);
            let _ = consistency_proof_nodes(old, size);
        }
    }
}
