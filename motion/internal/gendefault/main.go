// Command gendefault trains the motion package's default model from the
// simulator recipe in package sim and writes it, marshalled, to -out. It is
// run by `go generate` in the motion directory.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/payedge/payedge/motion/sim"
)

func main() {
	out := flag.String("out", "default_model.bin", "where to write the model")
	flag.Parse()
	if err := run(*out); err != nil {
		fmt.Fprintln(os.Stderr, "gendefault:", err)
		os.Exit(1)
	}
}

func run(out string) error {
	m, err := sim.TrainDefault()
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
