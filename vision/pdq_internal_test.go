package vision

import "testing"

// TestDihedralTableAgainstMetaHashes checks the mirror-and-transpose table
// dihedralMirror, and the naming of the eight Dihedral values, against
// Meta's published hashes of the bridge photo and of its seven transformed
// copies (facebook/ThreatExchange pdq/python/pdqhashing/tests/pdq_test.py,
// reg-test-input/dih/bridge-*.jpg). Without the images, the DCT is
// approximated from the original hash as ±1 per coefficient; as the median
// of the real coefficients is close to zero, negating a coefficient flips
// its bit and a transpose moves it, so the derived hashes must land near
// Meta's hashes of the transformed files (an error in a sign pattern or a
// swapped name lands near 128 bits instead).
func TestDihedralTableAgainstMetaHashes(t *testing.T) {
	const original = "d8f8f0cce0f4a84f0e370a22028f67f0b36e2ed596623e1d33e6b39c4e9c9b22"
	meta := map[Dihedral]string{
		Rotate90:   "38a50efd71c83f429013d68d0ffffc52e34e0e15ada952a9d29684214aa9e5af",
		Rotate180:  "2dadda64b5a142e5d362209057da895ae63b8c7fc277b4b766b319361f893188",
		Rotate270:  "a5f0a457248995e8c9065c275aaa54d8b61ba4bdf8fcfc0387c32f8b0bfc4f05",
		FlipX:      "d8f80f31e0f417b00e37f5dd028f980fb36ed12a9662c1e233e64c634e9c64dd",
		FlipY:      "0dad259bb1a1bd18d362576556da32a1e63b7380c2374b4866b3c6c91b89ce77",
		FlipPlus1:  "f0a5e10271dcc0bd9c5309720fff018de34ef1e8ada9a956d2967ade1ea91a50",
		FlipMinus1: "69f05aa8a4996a17c146a2da5aaaab07b61b5b60f8fc07fc83c3d0740bfcb0fa",
	}
	h, err := ParseHash(original)
	if err != nil {
		t.Fatal(err)
	}
	var d dct16
	for i := range 16 {
		for j := range 16 {
			d[i][j] = -1
			if h.Bit(i*16 + j) {
				d[i][j] = 1
			}
		}
	}
	// Threshold at zero, the approximate median, rather than at the exact
	// median of the ±1 values.
	signHash := func(m dct16) Hash {
		var out Hash
		for i := range 16 {
			for j := range 16 {
				if m[i][j] > 0 {
					out.setBit(i*16 + j)
				}
			}
		}
		return out
	}
	// Mirroring the image along an axis negates the odd frequencies along
	// it (index i holds frequency i+1).
	transform := func(k Dihedral) dct16 {
		dm := dihedralMirror[k]
		var o dct16
		for i := range 16 {
			for j := range 16 {
				v := d[i][j]
				if dm.mirror&1 != 0 && j%2 == 0 {
					v = -v
				}
				if dm.mirror&2 != 0 && i%2 == 0 {
					v = -v
				}
				o[i][j] = v
			}
		}
		if dm.transpose {
			o = o.transposed()
		}
		return o
	}
	if signHash(transform(Original)) != h {
		t.Fatal("Original transform changed the hash")
	}
	for k, hexHash := range meta {
		want, err := ParseHash(hexHash)
		if err != nil {
			t.Fatal(err)
		}
		got := signHash(transform(k))
		dist := got.Distance(want)
		t.Logf("dihedral %d: %d bits from Meta's hash of the transformed file", k, dist)
		if dist > 32 {
			t.Errorf("dihedral %d: derived hash %d bits from Meta's (want ≤ 32)", k, dist)
		}
		// The same check against every other transform must fail: the
		// names are not interchangeable.
		for k2, other := range meta {
			if k2 == k {
				continue
			}
			o, _ := ParseHash(other)
			if got.Distance(o) <= 32 {
				t.Errorf("dihedral %d also matches Meta's %d", k, k2)
			}
		}
	}
}

// TestExtractWithinMaxFeatures ties the detector's budget to the
// serialisation bound: every extracted fingerprint must marshal.
func TestExtractWithinMaxFeatures(t *testing.T) {
	if defaultORB.nFeatures > MaxFeatures {
		t.Fatalf("detector keeps %d features, MaxFeatures is %d", defaultORB.nFeatures, MaxFeatures)
	}
}
