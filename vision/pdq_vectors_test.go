package vision_test

import (
	"errors"
	"image"
	"image/jpeg"
	"image/png"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/payedge/payedge/vision"
)

// metaVectors are the reference PDQ hashes Meta publishes for the sample
// images in facebook/ThreatExchange pdq/data/, from
// pdq/python/pdqhashing/tests/pdq_test.py (which allows 16 bits; the
// reference C++, Java and Python hashers agree within that).
var metaVectors = []struct{ path, hash string }{
	{"misc-images/b.jpg", "d8f8f0cce0f4a84f0e370a22028f67f0b36e2ed596623e1d33e6b39c4e9c9b22"},
	{"misc-images/c.png", "e64cc9d91e623842f8d1f1d9a398e78c9f199a3bd87924f2b7e11e0bf061b064"},
	{"misc-images/small.jpg", "0007001f003f003f007f00ff00ff00ff01ff01ff01ff03ff03ff03ff03ff03ff"},
	{"misc-images/wee.jpg", "6227401f601ff4ccafcc9fad4b0d95d371a2eb7265a3285234d228ca94deeb2d"},
	{"reg-test-input/labelme-subset/q0003.jpg", "54a977c221d14c1c43ba5e6e21d4a13989a3553f1462611cbb85fda7be83b677"},
	{"reg-test-input/labelme-subset/q0004.jpg", "992d44af36d69e6ca6b812585928bac11def254ef5398c6d07466c9abcc65b92"},
	{"reg-test-input/labelme-subset/q0122.jpg", "cfb2009ddd21c6dab0046a7745b5984757a8a4535b3377aea2591d32b33ff940"},
	{"reg-test-input/labelme-subset/q0291.jpg", "a0fe94f1e5cc1cc8dd855948498dc9243f7ca27336f036d7f212b74bc103c9a7"},
	{"reg-test-input/labelme-subset/q0746.jpg", "1049d96239e24d4dca2c55512b8bdb77425f4dbcf575a0a95555aaab5554aaaa"},
	{"reg-test-input/labelme-subset/q1050.jpg", "489db672e9190276d452aeab41eba20f02375fe4092d88defdf491a5c55c5f70"},
	{"reg-test-input/labelme-subset/q2821.jpg", "b150231ffae4710ffcf4f18bb574b109a576f14bb8543189f8743289f174b109"},
	{"reg-test-input/dih/bridge-1-original.jpg", "d8f8f0cce0f4a84f0e370a22028f67f0b36e2ed596623e1d33e6b39c4e9c9b22"},
	{"reg-test-input/dih/bridge-2-rotate-90.jpg", "38a50efd71c83f429013d68d0ffffc52e34e0e15ada952a9d29684214aa9e5af"},
	{"reg-test-input/dih/bridge-3-rotate-180.jpg", "2dadda64b5a142e5d362209057da895ae63b8c7fc277b4b766b319361f893188"},
	{"reg-test-input/dih/bridge-4-rotate-270.jpg", "a5f0a457248995e8c9065c275aaa54d8b61ba4bdf8fcfc0387c32f8b0bfc4f05"},
	{"reg-test-input/dih/bridge-5-flipx.jpg", "d8f80f31e0f417b00e37f5dd028f980fb36ed12a9662c1e233e64c634e9c64dd"},
	{"reg-test-input/dih/bridge-6-flipy.jpg", "0dad259bb1a1bd18d362576556da32a1e63b7380c2374b4866b3c6c91b89ce77"},
	{"reg-test-input/dih/bridge-7-flip-plus-1.jpg", "f0a5e10271dcc0bd9c5309720fff018de34ef1e8ada9a956d2967ade1ea91a50"},
	{"reg-test-input/dih/bridge-8-flip-minus-1.jpg", "69f05aa8a4996a17c146a2da5aaaab07b61b5b60f8fc07fc83c3d0740bfcb0fa"},
}

// bridgeDihedral maps the bridge images to the Dihedral whose derived hash
// of bridge-1-original should match them.
var bridgeDihedral = map[string]vision.Dihedral{
	"bridge-2-rotate-90.jpg": vision.Rotate90, "bridge-3-rotate-180.jpg": vision.Rotate180,
	"bridge-4-rotate-270.jpg": vision.Rotate270, "bridge-5-flipx.jpg": vision.FlipX,
	"bridge-6-flipy.jpg": vision.FlipY, "bridge-7-flip-plus-1.jpg": vision.FlipPlus1,
	"bridge-8-flip-minus-1.jpg": vision.FlipMinus1,
}

// TestMetaVectorsParse checks the published hashes against this package's
// hex form: every vector parses and prints back unchanged, and the two
// listings of the same bridge photo (b.jpg, bridge-1-original.jpg) agree.
func TestMetaVectorsParse(t *testing.T) {
	for _, v := range metaVectors {
		h, err := vision.ParseHash(v.hash)
		if err != nil || h.String() != v.hash {
			t.Errorf("%s: %v / %s", v.path, err, h)
		}
	}
	a, _ := vision.ParseHash(metaVectors[0].hash)
	b, _ := vision.ParseHash(metaVectors[11].hash)
	if a.Distance(b) != 0 {
		t.Error("b.jpg and bridge-1-original.jpg should share a hash")
	}
}

// TestPDQMetaReference is the known-answer test against Meta's hashes of
// their sample images: within 10 bits for images of quality ≥ 80, and the
// hashes derived from bridge-1-original by PDQDihedral within 10 bits of
// the hashes of the transformed files. It needs the images in
// testdata/meta (see the README there) and skips without them.
func TestPDQMetaReference(t *testing.T) {
	root := filepath.Join("testdata", "meta")
	if _, err := os.Stat(filepath.Join(root, metaVectors[0].path)); errors.Is(err, fs.ErrNotExist) {
		t.Skip("Meta's PDQ sample images are not in testdata/meta (see README there); known-answer test not run")
	}
	load := func(p string) image.Image {
		f, err := os.Open(filepath.Join(root, p))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		var m image.Image
		if strings.HasSuffix(p, ".png") {
			m, err = png.Decode(f)
		} else {
			m, err = jpeg.Decode(f)
		}
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		return m
	}
	var bridge [8]vision.Hash
	for _, v := range metaVectors {
		want, _ := vision.ParseHash(v.hash)
		got, q := vision.PDQ(load(v.path))
		d := got.Distance(want)
		t.Logf("%s: quality %d, distance %d", v.path, q, d)
		if q >= 80 && d > 10 {
			t.Errorf("%s: %d bits from Meta's hash (quality %d)", v.path, d, q)
		}
		if strings.HasSuffix(v.path, "bridge-1-original.jpg") {
			bridge, _ = vision.PDQDihedral(load(v.path))
		}
	}
	for _, v := range metaVectors {
		k, ok := bridgeDihedral[filepath.Base(v.path)]
		if !ok {
			continue
		}
		want, _ := vision.ParseHash(v.hash)
		if d := bridge[k].Distance(want); d > 10 {
			t.Errorf("%s: derived dihedral hash %d bits from Meta's", v.path, d)
		}
	}
}
