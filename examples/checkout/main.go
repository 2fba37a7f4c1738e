// Command checkout tells the payedge story: one terminal, several payments,
// each with its signals, the fused confidence and the decision.
package main

import (
	"fmt"

	"github.com/payedge/payedge/risk"
)

func main() {
	s := risk.Signal{Source: "neighbors", Confidence: 0.9}
	fmt.Printf("%s %.2f\n", s.Source, s.Confidence)
}
