// Command gendefault trains the motion package's default model with the
// recipe in motion/internal/recipe (HAPT recordings and the simulator) and
// writes it, marshalled, to -out. It is run by `go generate` in the motion
// directory; -hapt (or $PAYEDGE_HAPT_DIR) names the HAPT folder.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/payedge/payedge/motion/internal/recipe"
)

func main() {
	out := flag.String("out", "default_model.bin", "where to write the model")
	hapt := flag.String("hapt", "../../shared/testdata/motion/hapt", "HAPT folder (RawData inside); $PAYEDGE_HAPT_DIR overrides")
	flag.Parse()
	if d := os.Getenv("PAYEDGE_HAPT_DIR"); d != "" {
		*hapt = d
	}
	if err := run(*out, *hapt); err != nil {
		fmt.Fprintln(os.Stderr, "gendefault:", err)
		os.Exit(1)
	}
}

func run(out, hapt string) error {
	m, err := recipe.Train(os.DirFS(hapt))
	if err != nil {
		return err
	}
	b, err := m.MarshalBinary()
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "gendefault: %d classes, %d iterations, %d bytes → %s\n", len(m.Labels()), m.Iterations(), len(b), out)
	return os.WriteFile(out, b, 0o644)
}
